package io.highwater.demo;

import java.util.Locale;

/**
 * Parsing and printing of the sizes, rates and durations the command-line options take.
 *
 * <p>Sizes use the JVM's own convention ({@code -XX:MaxDirectMemorySize=128m}): {@code k}, {@code m}, {@code g}
 * are powers of 1024, so {@code 200k} is 200 KiB and {@code 400m} is 400 MiB; they are printed as KiB/MiB/GiB.
 * Stateless; safe from any thread.
 */
public final class Units {
    private Units() {
    }

    /** Parses {@code 16384}, {@code 16k}, {@code 400m}, {@code 1g}, {@code 400MB}, {@code 400MiB}, {@code 200k/s}. */
    public static long parseSize(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("/s")) {
            s = s.substring(0, s.length() - 2);
        }
        if (s.endsWith("ib")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("b")) {
            s = s.substring(0, s.length() - 1);
        }
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'k': unit = 1L << 10; break;
                case 'm': unit = 1L << 20; break;
                case 'g': unit = 1L << 30; break;
                default: unit = 1;
            }
            if (unit != 1) {
                s = s.substring(0, s.length() - 1);
            }
        }
        try {
            double value = Double.parseDouble(s.trim());
            if (value < 0 || Double.isNaN(value) || value * unit > Long.MAX_VALUE) {
                throw new IllegalArgumentException("size out of range: " + text);
            }
            return Math.round(value * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 16384, 16k, 400m, 1g)", e);
        }
    }

    /** Parses {@code 20} (seconds), {@code 20s}, {@code 500ms}, {@code 2m}; returns nanoseconds. */
    public static long parseDurationNanos(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        double unit = 1e9;
        if (s.endsWith("ms")) {
            unit = 1e6;
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("s")) {
            s = s.substring(0, s.length() - 1);
        } else if (s.endsWith("m")) {
            unit = 60e9;
            s = s.substring(0, s.length() - 1);
        }
        try {
            double value = Double.parseDouble(s.trim());
            if (value < 0 || Double.isNaN(value)) {
                throw new IllegalArgumentException("negative duration: " + text);
            }
            return Math.round(value * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a duration: '" + text + "' (examples: 20, 20s, 500ms, 2m)", e);
        }
    }

    /** The shortest exact form that {@link #parseSize} reads back: {@code 400m}, {@code 16k}, {@code 1000}. */
    public static String sizeArgument(long bytes) {
        if (bytes > 0 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "g";
        }
        if (bytes > 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "m";
        }
        if (bytes > 0 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "k";
        }
        return Long.toString(bytes);
    }

    /** {@code 512 B}, {@code 80.0 KiB}, {@code 126.6 MiB}, {@code 1.5 GiB}. */
    public static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < (1L << 20)) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < (1L << 30)) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    /** A rate in bytes per second as {@code 200 KiB/s} or {@code 1.5 MiB/s}. */
    public static String rate(double bytesPerSecond) {
        if (bytesPerSecond < (1 << 20)) {
            return String.format(Locale.ROOT, "%.0f KiB/s", bytesPerSecond / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB/s", bytesPerSecond / (double) (1L << 20));
    }

    /** Seconds with one decimal: {@code 20.0 s}. */
    public static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }
}

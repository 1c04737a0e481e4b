package io.highwater.config;

import io.highwater.base.Log;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The agent's settings, from three sources in this precedence: agent arguments
 * ({@code -javaagent:highwater-agent.jar=key=value;key=value}), {@code highwater.*} system properties,
 * {@code HIGHWATER_*} environment variables. Keys in agent arguments may omit the {@code highwater.} prefix.
 *
 * <p>A bad value never throws: it is reported in one log line naming the setting and the default used.
 */
public final class Settings {

    public static final String PREFIX = "highwater.";
    public static final String OTEL_PREFIX = PREFIX + "otel.";

    /**
     * The agent's own settings with their defaults; each integration adds its switch and its own (docs/settings.md
     * lists them all).
     */
    static final Map<String, String> DEFAULTS;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("highwater.enabled", "true");
        d.put("highwater.netty.tolerance", "1.0");
        d.put("highwater.connections.max", "10000");
        d.put("highwater.connections.top", "10");
        d.put("highwater.callsite.max", "200");
        d.put("highwater.callsite.rate", "100");
        d.put("highwater.callsite.frameworks", "");
        d.put("highwater.stall.threshold", "30s");
        d.put("highwater.spans.threshold", "500ms");
        d.put("highwater.spans.rate", "20");
        d.put("highwater.shutdown.timeout", "1s");
        d.put("highwater.telemetry.delay", "5s");
        d.put("highwater.console", "false");
        d.put("highwater.console.interval", "5s");
        d.put("highwater.debug", "false");
        // the guard (docs/guard.md): off unless asked for
        d.put("highwater.guard.mode", "off");
        d.put("highwater.guard.connection.max", "64MiB");
        d.put("highwater.guard.stall", "5m");
        d.put("highwater.guard.memory.reserve", "0.10");
        d.put("highwater.guard.action", "close");
        // set by the command line on attach, not by users
        d.put("highwater.jar", "");
        d.put("highwater.reply", "");
        d.put("highwater.command", "");
        DEFAULTS = Collections.unmodifiableMap(d);
    }

    private final Map<String, String> values;
    private final Map<String, String> otelOverrides;
    private final Map<String, String> defaults;

    private Settings(Map<String, String> values, Map<String, String> otelOverrides, Map<String, String> defaults) {
        this.values = values;
        this.otelOverrides = otelOverrides;
        this.defaults = defaults;
    }

    /** @param more the integrations' settings with their defaults, beside the agent's own */
    public static Settings fromEnvironment(String agentArgs, Map<String, String> more) {
        return load(agentArgs, System.getProperties().entrySet(), System.getenv(), more);
    }

    static Settings load(String agentArgs, Set<Map.Entry<Object, Object>> sysProps, Map<String, String> env) {
        return load(agentArgs, sysProps, env, Collections.<String, String>emptyMap());
    }

    static Settings load(String agentArgs, Set<Map.Entry<Object, Object>> sysProps, Map<String, String> env,
                         Map<String, String> more) {
        Map<String, String> known = new LinkedHashMap<>(DEFAULTS);
        known.putAll(more);
        Map<String, String> merged = new LinkedHashMap<>();
        // lowest precedence first; later puts win
        for (Map.Entry<String, String> e : env.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("HIGHWATER_")) {
                merged.put(k.toLowerCase(Locale.ROOT).replace('_', '.'), e.getValue());
            }
        }
        for (Map.Entry<Object, Object> e : sysProps) {
            if (e.getKey() instanceof String && ((String) e.getKey()).startsWith(PREFIX)) {
                merged.put((String) e.getKey(), String.valueOf(e.getValue()));
            }
        }
        merged.putAll(parseArgs(agentArgs));

        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> otel = new LinkedHashMap<>();
        Set<String> unknown = new TreeSet<>();
        for (Map.Entry<String, String> e : merged.entrySet()) {
            String k = e.getKey();
            if (k.startsWith(OTEL_PREFIX)) {
                otel.put(k.substring(PREFIX.length()), e.getValue());
            } else if (known.containsKey(k)) {
                values.put(k, e.getValue());
            } else {
                unknown.add(k);
            }
        }
        for (String k : unknown) {
            Log.warn("unknown setting " + k + " ignored (docs/settings.md lists them)");
        }
        return new Settings(values, otel, known);
    }

    /** Parses {@code key=value;key=value}; a key without the {@code highwater.} prefix gets it. */
    static Map<String, String> parseArgs(String args) {
        Map<String, String> out = new LinkedHashMap<>();
        if (args == null || args.trim().isEmpty()) {
            return out;
        }
        for (String part : args.split(";")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0) {
                Log.warn("agent argument '" + p + "' ignored: expected key=value");
                continue;
            }
            String key = p.substring(0, eq).trim();
            if (!key.startsWith(PREFIX)) {
                key = PREFIX + key;
            }
            out.put(key, p.substring(eq + 1).trim());
        }
        return out;
    }

    /** {@code otel.*} settings given as {@code highwater.otel.*}: they win over the host's own {@code OTEL_*}. */
    public Map<String, String> otelOverrides() {
        return Collections.unmodifiableMap(otelOverrides);
    }

    /** Every setting that was given (not defaults), with values of secret-looking keys masked, for status. */
    public Map<String, String> describe() {
        Map<String, String> out = new java.util.TreeMap<>();
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (!e.getKey().equals("highwater.reply") && !e.getKey().equals("highwater.command")) {
                out.put(e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, String> e : otelOverrides.entrySet()) {
            out.put(OTEL_PREFIX + e.getKey().substring("otel.".length()), mask(e.getKey(), e.getValue()));
        }
        return out;
    }

    /** Header values, passwords, tokens and credentials in URLs are never shown. */
    public static String mask(String key, String value) {
        String k = key.toLowerCase(Locale.ROOT);
        if (k.contains("header") || k.contains("password") || k.contains("secret") || k.contains("token")
                || k.endsWith(".key") || k.contains("credential")) {
            return "***";
        }
        return value.replaceAll("(?<=://)[^/@\\s]+@", "***@");
    }

    public String string(String key) {
        String v = values.get(key);
        return v != null ? v : defaultOf(key);
    }

    public boolean bool(String key) {
        String v = values.get(key);
        if (v != null) {
            String t = v.trim().toLowerCase(Locale.ROOT);
            if (t.equals("true") || t.equals("false")) {
                return t.equals("true");
            }
            bad(key, v, "true or false");
        }
        return Boolean.parseBoolean(defaultOf(key));
    }

    public int integer(String key, int min, int max) {
        String v = values.get(key);
        if (v != null) {
            try {
                int i = Integer.parseInt(v.trim());
                if (i >= min && i <= max) {
                    return i;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            bad(key, v, "a whole number from " + min + " to " + max);
        }
        return Integer.parseInt(defaultOf(key));
    }

    public double decimal(String key, double min, double max) {
        String v = values.get(key);
        if (v != null) {
            try {
                double d = Double.parseDouble(v.trim());
                if (d >= min && d <= max && !Double.isNaN(d)) {
                    return d;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            bad(key, v, "a number from " + min + " to " + max);
        }
        return Double.parseDouble(defaultOf(key));
    }

    public Duration duration(String key, Duration min) {
        String v = values.get(key);
        if (v != null) {
            Duration d = parseDuration(v);
            if (d != null && d.compareTo(min) >= 0) {
                return d;
            }
            bad(key, v, "a duration of at least " + format(min) + " such as 500ms, 30s, 5m");
        }
        return parseDuration(defaultOf(key));
    }

    /**
     * A size in bytes of at least {@code min}: a whole number with an optional unit {@code B}, {@code KiB},
     * {@code MiB}, {@code GiB} (powers of 1024; {@code k}, {@code m}, {@code g}, {@code KB}, {@code MB}, {@code GB}
     * mean the same, as in {@code -Xmx}).
     */
    public long size(String key, long min) {
        String v = values.get(key);
        if (v != null) {
            long n = parseSize(v);
            if (n >= min) {
                return n;
            }
            bad(key, v, "a size of at least " + min + " bytes such as 512KiB, 64MiB, 1GiB");
        }
        return parseSize(defaultOf(key));
    }

    /** See {@link #size}; -1 when malformed or too large. */
    public static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        int i = 0;
        while (i < t.length() && Character.isDigit(t.charAt(i))) {
            i++;
        }
        if (i == 0 || i > 15) {
            return -1;
        }
        long n = Long.parseLong(t.substring(0, i));
        int shift;
        switch (t.substring(i).trim()) {
            case "":
            case "b":
                shift = 0;
                break;
            case "k":
            case "kb":
            case "kib":
                shift = 10;
                break;
            case "m":
            case "mb":
            case "mib":
                shift = 20;
                break;
            case "g":
            case "gb":
            case "gib":
                shift = 30;
                break;
            default:
                return -1;
        }
        return n > (Long.MAX_VALUE >> shift) ? -1 : n << shift;
    }

    /** One of {@code allowed} (case-insensitive), returned in lower case. */
    public String choice(String key, String... allowed) {
        String v = values.get(key);
        if (v != null) {
            String t = v.trim().toLowerCase(Locale.ROOT);
            for (String a : allowed) {
                if (a.equals(t)) {
                    return t;
                }
            }
            bad(key, v, "one of " + String.join(", ", allowed));
        }
        return defaultOf(key);
    }

    /**
     * OpenTelemetry-style durations: a whole number with an optional unit {@code ms}, {@code s}, {@code m},
     * {@code h}, {@code d}; no unit means milliseconds. Returns null when malformed.
     */
    public static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        int i = 0;
        while (i < t.length() && Character.isDigit(t.charAt(i))) {
            i++;
        }
        if (i == 0 || i > 12) {
            return null;
        }
        long n = Long.parseLong(t.substring(0, i));
        switch (t.substring(i).trim()) {
            case "":
            case "ms":
                return Duration.ofMillis(n);
            case "s":
                return Duration.ofSeconds(n);
            case "m":
                return Duration.ofMinutes(n);
            case "h":
                return Duration.ofHours(n);
            case "d":
                return Duration.ofDays(n);
            default:
                return null;
        }
    }

    public static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }

    private String defaultOf(String key) {
        String d = defaults.get(key);
        if (d == null) {
            throw new IllegalArgumentException("not a setting: " + key);
        }
        return d;
    }

    private void bad(String key, String value, String expected) {
        Log.warn("setting " + key + "='" + value + "' is not " + expected + "; using the default " + defaultOf(key));
    }
}

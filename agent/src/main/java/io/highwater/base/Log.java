package io.highwater.base;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's only logger: stderr, one line per message, prefixed {@code [highwater]}. It never touches
 * {@code java.util.logging} or any logging framework of the application.
 */
public final class Log {

    /** What every line starts with. */
    public static final String PREFIX = "[highwater] ";
    private static final int MAX_DISTINCT_PROBLEMS = 256;
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();
    private static volatile boolean debug;

    private Log() {
    }

    public static void setDebug(boolean on) {
        debug = on;
    }

    public static boolean debugEnabled() {
        return debug;
    }

    public static void info(String message) {
        print(message);
    }

    public static void warn(String message) {
        print(message);
    }

    /** Logs a problem the first time {@code key} is seen; repeats of the same problem stay silent. */
    public static void once(String key, String message) {
        if (REPORTED.size() < MAX_DISTINCT_PROBLEMS ? REPORTED.add(key) : false) {
            print(message);
        } else if (debug) {
            print("(repeat) " + message);
        }
    }

    public static void debug(String message) {
        if (debug) {
            print("debug: " + message);
        }
    }

    /**
     * Prints a line built beforehand, {@link #PREFIX} included: for messages that must get out when the heap is
     * full, where building the line could itself fail.
     */
    public static void line(String prebuilt) {
        System.err.println(prebuilt);
    }

    private static void print(String message) {
        PrintStream err = System.err;
        err.println(PREFIX + message);
    }
}

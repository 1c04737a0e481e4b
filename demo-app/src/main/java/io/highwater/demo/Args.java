package io.highwater.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A minimal command-line parser: {@code --name value}, {@code --name=value} and boolean {@code --flag}s.
 * Every option must be declared; anything else is an error naming the option. Not thread-safe (used on the
 * main thread while starting).
 */
final class Args {
    private final Set<String> valued;
    private final Set<String> flags;
    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final Set<String> present = new HashSet<>();

    private Args(String[] args, Set<String> valued, Set<String> flags) {
        this.valued = valued;
        this.flags = flags;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "' (options start with --)");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) {
                    throw new IllegalArgumentException("--" + name + " takes no value");
                }
                present.add(name);
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("--" + name + " needs a value");
                    }
                    value = args[++i];
                }
                present.add(name);
                values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else {
                throw new IllegalArgumentException("unknown option --" + name);
            }
        }
    }

    static Args parse(String[] args, List<String> valued, List<String> flags) {
        return new Args(args, new HashSet<>(valued), new HashSet<>(flags));
    }

    static List<String> names(String... names) {
        return Arrays.asList(names);
    }

    boolean has(String name) {
        check(name);
        return present.contains(name);
    }

    String get(String name, String fallback) {
        check(name);
        List<String> v = values.get(name);
        return v == null ? fallback : v.get(v.size() - 1);
    }

    List<String> all(String name) {
        check(name);
        List<String> v = values.get(name);
        return v == null ? new ArrayList<>() : v;
    }

    long size(String name, String fallback) {
        return Units.parseSize(get(name, fallback));
    }

    long nanos(String name, String fallback) {
        return Units.parseDurationNanos(get(name, fallback));
    }

    int integer(String name, int fallback) {
        String v = get(name, null);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " wants a whole number, not '" + v + "'", e);
        }
    }

    private void check(String name) {
        if (!valued.contains(name) && !flags.contains(name)) {
            throw new IllegalStateException("option --" + name + " was not declared");
        }
    }
}

package io.highwater.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A copy of {@code otel-collector/alerts.yml} for a test that cannot wait minutes: every {@code for:} duration is
 * divided by {@link #TIME_SCALE} (2m → 4s, 5m → 10s; at least 1s), and nothing else changes — every expression,
 * label and annotation stays byte for byte what the original says. The {@code for:} timing itself is tested with
 * promtool ({@code alerts.test.yml}, {@code test-rules.sh}), not against the clock here.
 */
final class AlertRulesCopy {
    static final int TIME_SCALE = 30;
    private static final Pattern FOR_LINE = Pattern.compile("^(\\s+for:\\s*)(\\d+)([smh])(\\s*)$");
    private static final Pattern ANY_FOR_KEY = Pattern.compile("^\\s+for:.*$");

    final String text;
    /** Original and rewritten {@code for:} lines, in order. */
    final List<String> changes = new ArrayList<>();

    private AlertRulesCopy(String text) {
        this.text = text;
    }

    static AlertRulesCopy of(Path original) {
        List<String> lines;
        try {
            lines = Files.readAllLines(original);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> out = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (String line : lines) {
            Matcher m = FOR_LINE.matcher(line);
            if (m.matches()) {
                long seconds = Long.parseLong(m.group(2)) * switch (m.group(3)) {
                    case "h" -> 3600;
                    case "m" -> 60;
                    default -> 1;
                };
                String rewritten = m.group(1) + Math.max(1, seconds / TIME_SCALE) + "s" + m.group(4);
                changes.add(line.strip() + " -> " + rewritten.strip());
                out.add(rewritten);
            } else if (ANY_FOR_KEY.matcher(line).matches()) {
                throw new IllegalStateException("a for: this rewrite does not understand: '" + line.strip()
                        + "' in " + original + " (extend AlertRulesCopy)");
            } else {
                out.add(line);
            }
        }
        AlertRulesCopy copy = new AlertRulesCopy(String.join("\n", out) + "\n");
        copy.changes.addAll(changes);
        return copy;
    }

    Path writeTo(Path file) {
        try {
            Files.createDirectories(file.getParent());
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

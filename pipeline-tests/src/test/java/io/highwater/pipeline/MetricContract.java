package io.highwater.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric contract as written in a Markdown table (the project's docs/metrics.md, DESIGN.md's "Metric
 * contract"): rows whose first cell is the OpenTelemetry name and whose last cell the Prometheus name.
 * {@code backpressure_drain_wait_seconds_{bucket,sum,count}} stands for three series names.
 */
final class MetricContract {
    private static final Pattern ROW = Pattern.compile(
            "^\\|\\s*`(backpressure\\.[a-z_.]+)`\\s*\\|.*\\|\\s*`(backpressure_[a-z_]+?)(_\\{([a-z,]+)\\})?`\\s*\\|\\s*$");

    /** OpenTelemetry name → the Prometheus series names it yields (three for a histogram). */
    final Map<String, List<String>> prometheusNames;
    /** OpenTelemetry name → the base Prometheus name (for a histogram without _bucket/_sum/_count). */
    final Map<String, String> baseNames;

    private MetricContract(Map<String, List<String>> names, Map<String, String> bases) {
        this.prometheusNames = Collections.unmodifiableMap(names);
        this.baseNames = Collections.unmodifiableMap(bases);
    }

    static MetricContract fromMarkdown(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, List<String>> names = new LinkedHashMap<>();
        Map<String, String> bases = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = ROW.matcher(line.strip());
            if (!m.matches()) {
                continue;
            }
            String base = m.group(2);
            List<String> series = new ArrayList<>();
            if (m.group(4) != null) {
                for (String suffix : m.group(4).split(",")) {
                    series.add(base + "_" + suffix.strip());
                }
            } else {
                series.add(base);
            }
            names.put(m.group(1), List.copyOf(series));
            bases.put(m.group(1), base);
        }
        return new MetricContract(names, bases);
    }

    /** Every Prometheus series name of the contract. */
    List<String> allSeriesNames() {
        List<String> all = new ArrayList<>();
        prometheusNames.values().forEach(all::addAll);
        return all;
    }
}

package io.highwater.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;

/** Reading a Grafana dashboard model: its panels (with those nested in rows), their queries and variables. */
final class GrafanaDashboard {
    private static final Pattern METRIC_NAME = Pattern.compile("\\bbackpressure_[a-z_]+\\b");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}|\\$([A-Za-z_][A-Za-z0-9_]*)");

    final JsonNode model;

    GrafanaDashboard(JsonNode model) {
        this.model = model;
    }

    /** Top-level panels and the panels nested in (collapsed) rows, in order. */
    List<JsonNode> panels() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : model.path("panels")) {
            out.add(p);
            if ("row".equals(p.path("type").asString(""))) {
                for (JsonNode nested : p.path("panels")) {
                    out.add(nested);
                }
            }
        }
        return out;
    }

    /** One query of one panel. */
    record Query(String panelTitle, String refId, String expr, boolean instant) {
        String label() {
            return "'" + panelTitle + "' [" + refId + "]";
        }
    }

    List<Query> queries() {
        List<Query> out = new ArrayList<>();
        for (JsonNode p : panels()) {
            for (JsonNode t : p.path("targets")) {
                out.add(new Query(p.path("title").asString(""), t.path("refId").asString(""),
                        t.path("expr").asString(""), t.path("instant").asBoolean(false)));
            }
        }
        return out;
    }

    /** The template variables' queries ({@code label_values(...)}). */
    List<String> variableQueries() {
        List<String> out = new ArrayList<>();
        for (JsonNode v : model.path("templating").path("list")) {
            if ("query".equals(v.path("type").asString(""))) {
                out.add(v.path("query").asString(""));
            }
        }
        return out;
    }

    /**
     * {@code backpressure_*} metric names an expression uses: label names (in matchers, {@code by (...)},
     * {@code on (...)}, the label argument of {@code label_values}) and strings are taken out first, since labels
     * such as {@code backpressure_layer} share the prefix.
     */
    static TreeSet<String> metricNames(String expr) {
        String metricsOnly = expr
                .replaceAll("\\{[^}]*\\}", "")
                .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", "")
                .replaceAll("label_values\\(([^,()]*),[^)]*\\)", "$1");
        TreeSet<String> names = new TreeSet<>();
        Matcher m = METRIC_NAME.matcher(metricsOnly);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    /**
     * Expands Grafana's variables the way Grafana would before sending a query: {@code $name} and {@code ${name}}
     * from the map; a variable that is not in the map is an error (so a new variable cannot slip through untested).
     */
    static String substitute(String expr, Map<String, String> values) {
        Matcher m = VARIABLE.matcher(expr);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException("no value for Grafana variable $" + name + " in: " + expr);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}

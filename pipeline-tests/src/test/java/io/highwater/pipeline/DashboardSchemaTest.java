package io.highwater.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Grafana dashboard ({@code otel-collector/grafana/dashboards/highwater.json}) against Grafana's JSON schemas in
 * {@code shared/schemas/grafana/} (beside the checkout), against the metric contract, and against a layout rule the
 * schemas do not state. Negative checks prove that the validation can fail.
 */
class DashboardSchemaTest {
    private static GrafanaSchemas schemas;
    private static ObjectNode dashboard;
    private static MetricContract contract;

    @BeforeAll
    static void load() {
        Path schemaDir = TestEnv.grafanaSchemas();
        assertThat(schemaDir.resolve("dashboard.jsonschema.json"))
                .as("Grafana schemas: shared/ must sit beside the checkout (or set -Dhighwater.shared.dir=...)")
                .isRegularFile();
        schemas = new GrafanaSchemas(schemaDir);
        dashboard = (ObjectNode) Json.read(TestEnv.dashboard());
        contract = MetricContract.fromMarkdown(TestEnv.repoRoot().resolve("docs/metrics.md"));
    }

    @Test
    void dashboardIsValidAgainstGrafanaSchemas() {
        assertThat(schemas.validate(dashboard)).as("schema errors of %s", TestEnv.dashboard()).isEmpty();
        // every panel type is one the schemas cover (else validate() reports it)
        assertThat(new GrafanaDashboard(dashboard).panels()).extracting(p -> p.path("type").asString(""))
                .allMatch(t -> t.equals("row") || GrafanaSchemas.PANEL_TYPES.contains(t));
    }

    @Test
    void brokenDashboardsAreRejected() {
        Map<String, Consumer<ObjectNode>> breakages = new LinkedHashMap<>();
        breakages.put("gridPos.w is a string", d -> firstPanel(d, "timeseries").withObject("gridPos").put("w", "nine"));
        breakages.put("gridPos.w above 24 columns", d -> firstPanel(d, "stat").withObject("gridPos").put("w", 30));
        breakages.put("gridPos without h", d -> firstPanel(d, "table").withObject("gridPos").remove("h"));
        breakages.put("unknown panel property", d -> firstPanel(d, "timeseries").put("queries", "sum(x)"));
        breakages.put("panel type missing", d -> firstPanel(d, "heatmap").remove("type"));
        breakages.put("schemaVersion missing", d -> d.remove("schemaVersion"));
        breakages.put("timeseries legend.displayMode not an enum value",
                d -> firstPanel(d, "timeseries").withObject("options").withObject("legend").put("displayMode", "huge"));
        breakages.put("stat reduceOptions.calcs not an array",
                d -> firstPanel(d, "stat").withObject("options").withObject("reduceOptions").put("calcs", "lastNotNull"));
        breakages.put("timeseries custom.lineWidth a string",
                d -> firstPanel(d, "timeseries").withObject("fieldConfig").withObject("defaults").withObject("custom")
                        .put("lineWidth", "thick"));
        breakages.put("stat with a custom field config (stat has none)",
                d -> firstPanel(d, "stat").withObject("fieldConfig").withObject("defaults").withObject("custom")
                        .put("lineWidth", 1));
        breakages.put("target expr a number", d -> ((ObjectNode) firstPanel(d, "timeseries").get("targets").get(0))
                .put("expr", 42));
        breakages.put("panel of a type without a schema", d -> firstPanel(d, "table").put("type", "piechart"));
        breakages.put("duplicate panel id", d -> firstPanel(d, "heatmap").put("id", firstPanel(d, "stat").get("id").asInt()));

        List<String> notCaught = new ArrayList<>();
        for (Map.Entry<String, Consumer<ObjectNode>> b : breakages.entrySet()) {
            ObjectNode copy = dashboard.deepCopy();
            b.getValue().accept(copy);
            List<String> errors = schemas.validate(copy);
            if (errors.isEmpty()) {
                notCaught.add(b.getKey());
            }
        }
        assertThat(notCaught).as("breakages the schema validation did not catch").isEmpty();
    }

    /**
     * Grafana's Panel schema requires only {@code type}: a panel without {@code gridPos} is schema-valid (Grafana
     * places it somewhere). The dashboard's layout is checked here instead: every panel has a position inside the
     * 24-column grid and no two panels overlap.
     */
    @Test
    void everyPanelHasItsOwnPlaceInTheGrid() {
        assertThat(layoutErrors(dashboard)).isEmpty();

        ObjectNode withoutGridPos = dashboard.deepCopy();
        firstPanel(withoutGridPos, "timeseries").remove("gridPos");
        assertThat(schemas.validate(withoutGridPos)).as("the schema itself does not require gridPos").isEmpty();
        assertThat(layoutErrors(withoutGridPos)).anyMatch(e -> e.contains("no gridPos"));

        ObjectNode overlapping = dashboard.deepCopy();
        JsonNode statPos = firstPanel(overlapping, "stat").get("gridPos");
        firstPanel(overlapping, "timeseries").set("gridPos", statPos.deepCopy());
        assertThat(layoutErrors(overlapping)).anyMatch(e -> e.contains("overlaps"));
    }

    @Test
    void everyQueriedMetricIsInTheContractAndEveryContractMetricIsOnTheDashboard() {
        assertThat(contract.prometheusNames).as("metric table parsed from docs/metrics.md")
                .containsEntry("backpressure.ignored.writes", List.of("backpressure_ignored_writes_total"))
                .containsEntry("backpressure.drain.wait", List.of("backpressure_drain_wait_seconds_bucket",
                        "backpressure_drain_wait_seconds_sum", "backpressure_drain_wait_seconds_count"));
        Path design = TestEnv.sharedDir().resolve("DESIGN.md");
        if (Files.isRegularFile(design)) {
            // the project may add metrics to the shared contract, never rename or leave out one of its
            assertThat(contract.prometheusNames)
                    .as("docs/metrics.md holds every metric of DESIGN.md's contract, with the same Prometheus names")
                    .containsAllEntriesOf(MetricContract.fromMarkdown(design).prometheusNames);
        }
        GrafanaDashboard d = new GrafanaDashboard(dashboard);
        Set<String> allowed = new TreeSet<>(contract.allSeriesNames());
        Map<String, Set<String>> usedBy = new TreeMap<>();
        for (GrafanaDashboard.Query q : d.queries()) {
            assertThat(q.expr()).as("query of %s", q.label()).isNotBlank();
            for (String name : GrafanaDashboard.metricNames(q.expr())) {
                usedBy.computeIfAbsent(name, k -> new TreeSet<>()).add(q.label());
            }
        }
        for (String v : d.variableQueries()) {
            for (String name : GrafanaDashboard.metricNames(v)) {
                assertThat(allowed).as("metric of the variable query %s", v).contains(name);
            }
        }
        Map<String, Set<String>> unknown = new TreeMap<>(usedBy);
        unknown.keySet().removeAll(allowed);
        assertThat(unknown).as("metric names in panel queries that are not in the contract").isEmpty();

        List<String> missing = new ArrayList<>();
        contract.prometheusNames.forEach((otel, names) -> {
            if (names.stream().noneMatch(usedBy::containsKey)) {
                missing.add(otel + " (" + String.join(", ", names) + ")");
            }
        });
        assertThat(missing).as("contract metrics that no panel shows").isEmpty();
    }

    @Test
    void contractCheckNoticesAnUnknownMetric() {
        ObjectNode copy = dashboard.deepCopy();
        ObjectNode target = (ObjectNode) firstPanel(copy, "timeseries").get("targets").get(0);
        target.put("expr", "sum(backpressure_pending_byte)");
        Set<String> names = new TreeSet<>();
        new GrafanaDashboard(copy).queries().forEach(q -> names.addAll(GrafanaDashboard.metricNames(q.expr())));
        names.removeAll(contract.allSeriesNames());
        assertThat(names).containsExactly("backpressure_pending_byte");
    }

    private static ObjectNode firstPanel(ObjectNode model, String type) {
        for (JsonNode p : new GrafanaDashboard(model).panels()) {
            if (type.equals(p.path("type").asString(""))) {
                return (ObjectNode) p;
            }
        }
        throw new AssertionError("the dashboard has no " + type + " panel");
    }

    /** Panels without a position, outside the grid, or overlapping another (rows included: they take a line). */
    static List<String> layoutErrors(JsonNode model) {
        List<String> errors = new ArrayList<>();
        List<int[]> boxes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        ArrayNode panels = (ArrayNode) model.path("panels");
        for (JsonNode p : panels) {
            String name = "panel " + p.path("id") + " '" + p.path("title").asString("") + "'";
            JsonNode g = p.get("gridPos");
            if (g == null || !g.isObject()) {
                errors.add(name + ": no gridPos");
                continue;
            }
            int x = g.path("x").asInt(-1), y = g.path("y").asInt(-1), w = g.path("w").asInt(0), h = g.path("h").asInt(0);
            if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > 24) {
                errors.add(name + ": gridPos " + g + " outside the 24-column grid");
            }
            for (int i = 0; i < boxes.size(); i++) {
                int[] o = boxes.get(i);
                if (x < o[0] + o[2] && o[0] < x + w && y < o[1] + o[3] && o[1] < y + h) {
                    errors.add(name + " overlaps " + names.get(i));
                }
            }
            boxes.add(new int[] {x, y, w, h});
            names.add(name);
        }
        return errors;
    }
}

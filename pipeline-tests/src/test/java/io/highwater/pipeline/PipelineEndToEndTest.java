package io.highwater.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.jar.JarFile;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The whole pipeline with real processes: the demo app ({@code demo-app/target/highwater-demo.jar serve}) with the
 * agent jar attached exports OTLP every second to the collector built in {@code otel-collector/} (its own
 * {@code config.yaml}, every port picked free), a Prometheus scrapes the collector's exporter every second
 * ({@code honor_labels: true}) and evaluates a copy of {@code alerts.yml} every second whose {@code for:} durations
 * are divided by 30 and whose expressions are unchanged ({@link AlertRulesCopy}).
 *
 * <p>Two services run side by side, told apart by {@code service.name} (Prometheus {@code job}):
 * <ul>
 *   <li>scenario A, {@value #JOB_IGNORING}: one client reads {@code /export/ignoring} at 100 KiB/s while the service
 *       produces 1 MiB/s, so pending bytes grow steadily by about 0.9 MiB/s (in direct memory; the JVM has
 *       {@code -Xmx256m -XX:MaxDirectMemorySize=512m}, so the tighter limit, 256 MiB, is reached only after minutes,
 *       but the 10-minute projection of {@code predict_linear} passes it at once); a second client reads
 *       {@code /export/respecting} and pauses for longer than the stall threshold (2s here), which yields ended
 *       drain waits (the histogram) and stalls; the guard observes with a low limit. Every dashboard query must return
 *       data (but those of HTTP/2 streams and of queues of items, which this service does not have), and
 *       {@code HighwaterIgnoredWrites} and {@code HighwaterPendingBytesWillExhaustMemory} must fire.</li>
 *   <li>scenario B, {@value #JOB_RESPECTING}: a client reads {@code /export/respecting} only, at 100 KiB/s; once its
 *       connection's pending gauge has been scraped many times (many rule evaluations later), neither alert may have
 *       been pending or firing for that service at any point.</li>
 * </ul>
 * Without the collector binary or Prometheus the test is skipped, unless {@code HIGHWATER_E2E_REQUIRED=true}.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class PipelineEndToEndTest {
    static final String JOB_IGNORING = "highwater-e2e-ignoring";
    static final String JOB_RESPECTING = "highwater-e2e-respecting";
    static final String COLLECTOR_SCRAPE_JOB = "highwater-otel-collector";
    static final List<String> ALERTS_UNDER_TEST =
            List.of("HighwaterIgnoredWrites", "HighwaterPendingBytesWillExhaustMemory");
    static final Duration AWAIT = Duration.ofSeconds(120);

    private static ChildProcesses processes;
    private static final List<SlowReader> readers = new ArrayList<>();
    private static Path runDir;
    private static PrometheusApi prometheus;
    private static int exporterPort;
    /** Why the pipeline cannot run here (collector or Prometheus missing), or null. */
    private static String missing;

    @BeforeAll
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    static void startPipeline() throws Exception {
        Path collector = TestEnv.collectorBinary();
        Path prometheusBinary = TestEnv.prometheusBinary();
        if (!Files.isExecutable(collector)) {
            missing = "no collector binary at " + collector + " (build it with otel-collector/build.sh)";
        } else if (prometheusBinary == null || !Files.isExecutable(prometheusBinary)) {
            missing = "no prometheus on the PATH (otel-collector/install-prometheus.sh installs Debian's package)";
        }
        if (missing != null) {
            // fails here when HIGHWATER_E2E_REQUIRED=true; else each test reports itself skipped (see skipWhenMissing)
            TestEnv.failIfRequired(missing);
            System.out.println("[pipeline] SKIPPED: " + missing);
            return;
        }
        assertThat(TestEnv.agentJar()).as("the agent jar (mvn package in agent/)").isRegularFile();
        assertThat(TestEnv.demoJar()).as("the demo app jar (mvn package in demo-app/)").isRegularFile();

        Files.createDirectories(TestEnv.workDir());
        runDir = Files.createTempDirectory(TestEnv.workDir(), "run-");
        System.out.println("[pipeline] logs, configs and data in " + runDir);
        processes = new ChildProcesses();

        // the agent jar may be rebuilt while this runs: test a snapshot
        Path agent = Files.copy(TestEnv.agentJar(), runDir.resolve("highwater-agent.jar"),
                StandardCopyOption.REPLACE_EXISTING);
        try (JarFile jar = new JarFile(agent.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Premain-Class"))
                    .as("Premain-Class of the copied agent jar (was it being rebuilt?)").isNotBlank();
        }

        // --- the collector, with its own config.yaml and free ports (fresh ones when one was taken meanwhile) ----
        CollectorLauncher.Started started = CollectorLauncher.start(processes, collector,
                TestEnv.collectorDir().resolve("config.yaml"), runDir, CollectorLauncher.Ports::free,
                Duration.ofSeconds(60));
        int otlpHttp = started.ports().otlpHttp();
        exporterPort = started.ports().exporter();
        System.out.println("[pipeline] the collector answers (attempt " + started.attempt() + "): " + started.ports());

        // --- Prometheus: generated prometheus.yml, alerts.yml copy with shorter for: ------------------------------
        AlertRulesCopy rules = AlertRulesCopy.of(TestEnv.collectorDir().resolve("alerts.yml"));
        Path alerts = rules.writeTo(runDir.resolve("prometheus/alerts.yml"));
        System.out.println("[pipeline] alerts.yml copy, for: divided by " + AlertRulesCopy.TIME_SCALE + ": "
                + rules.changes);
        Path config = Files.writeString(runDir.resolve("prometheus/prometheus.yml"), String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  scrape_timeout: 1s",
                "  evaluation_interval: 1s",
                "rule_files:",
                "  - " + alerts,
                "scrape_configs:",
                "  - job_name: " + COLLECTOR_SCRAPE_JOB,
                "    honor_labels: true",
                "    static_configs:",
                "      - targets: [\"127.0.0.1:" + exporterPort + "\"]",
                ""));
        int prometheusPort = ChildProcesses.freePort();
        ChildProcesses.Child prometheusProcess = processes.start("prometheus", List.of(prometheusBinary.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + runDir.resolve("prometheus/data"),
                        "--storage.tsdb.retention.time=1h",
                        "--web.listen-address=127.0.0.1:" + prometheusPort),
                Map.of(), runDir, runDir.resolve("prometheus.log"), null);
        prometheus = new PrometheusApi("http://127.0.0.1:" + prometheusPort);
        await("Prometheus is ready", Duration.ofSeconds(60), () -> {
            alive(prometheusProcess);
            return prometheus.get("/-/ready") != null ? "" : null;
        });

        // --- the two services, each with the agent, and their clients ----------------------------------------
        // the guard in observe mode with a low limit: it changes nothing, and its (not enforced) actions fill the
        // dashboard's guard panel
        int portA = startDemo(JOB_IGNORING, agent, otlpHttp, "guard.mode=observe", "guard.connection.max=8MiB");
        int portB = startDemo(JOB_RESPECTING, agent, otlpHttp);
        readers.add(new SlowReader("A-ignoring", portA, "/export/ignoring?bytes=400m&rate=1m", 100 * 1024, 0, 0)
                .start());
        readers.add(new SlowReader("A-respecting-pausing", portA, "/export/respecting?bytes=400m", 200 * 1024,
                3000, 4000).start());
        readers.add(new SlowReader("B-respecting", portB, "/export/respecting?bytes=400m", 100 * 1024, 0, 0)
                .start());
    }

    /**
     * Panels of layers a Netty HTTP/1.1 service does not have: HTTP/2 streams and gRPC calls, queues of elements that
     * are not bytes (Reactor). Their series are proven by the integration tests of those layers
     * ({@code Http2StreamChannelTest}, {@code GrpcCallNotReadyTest}, {@code ReactorQueueTest}); here they may be empty.
     */
    private static boolean notThisServicesKind(String query) {
        return query.contains("backpressure_stream_pending_bytes") || query.contains("backpressure_pending_items");
    }

    @BeforeEach
    void skipWhenMissing() {
        TestEnv.requirePipelinePiece(missing == null, missing);
    }

    private static int startDemo(String service, Path agent, int otlpHttpPort, String... moreAgentArgs)
            throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(
                "otel.exporter.otlp.endpoint=http://127.0.0.1:" + otlpHttpPort,
                "otel.metric.export.interval=1s",
                "otel.service.name=" + service,
                "stall.threshold=2s"));
        args.addAll(List.of(moreAgentArgs));
        String agentArgs = String.join(";", args);
        CompletableFuture<String> listening = new CompletableFuture<>();
        ChildProcesses.Child demo = processes.start(service, List.of(TestEnv.javaExecutable().toString(),
                        "-Xmx256m", "-XX:MaxDirectMemorySize=512m",
                        "-javaagent:" + agent + "=" + agentArgs,
                        "-jar", TestEnv.demoJar().toString(),
                        "serve", "--port", "0", "--status-interval", "0"),
                Map.of(), runDir, runDir.resolve(service + ".log"),
                ChildProcesses.firstLineStartingWith("LISTENING ", listening));
        String port = await(service + " prints LISTENING <port>", Duration.ofSeconds(60), () -> {
            alive(demo);
            return listening.getNow(null);
        });
        return Integer.parseInt(port);
    }

    @AfterAll
    static void stopPipeline() {
        readers.forEach(SlowReader::close);
        if (processes != null) {
            if (prometheus != null) {
                saveDiagnostics();
            }
            processes.close();
        }
    }

    private static void saveDiagnostics() {
        try {
            String metrics = new PrometheusApi("http://127.0.0.1:" + exporterPort).get("/metrics");
            if (metrics != null) {
                Files.writeString(runDir.resolve("collector-exporter-metrics.txt"), metrics);
            }
            String alerts = prometheus.get("/api/v1/alerts");
            if (alerts != null) {
                Files.writeString(runDir.resolve("prometheus-alerts.json"), alerts);
            }
        } catch (IOException | RuntimeException e) {
            System.out.println("[pipeline] could not save diagnostics: " + e);
        }
    }

    @Test
    void ignoringWriterFillsEveryDashboardPanelAndFiresBothAlerts() {
        GrafanaDashboard dashboard = new GrafanaDashboard(Json.read(TestEnv.dashboard()));
        Map<String, String> variables = Map.of(
                "job", JOB_IGNORING,
                "instance", ".*",
                "layer", "netty",
                "__rate_interval", "1m",
                "__interval", "2s",
                "__range", "5m");
        // $job goes into a regex matcher (job=~"$job"): the name has no regex metacharacters
        assertThat(JOB_IGNORING).matches("[a-z0-9-]+");

        Map<String, Integer> seriesPerQuery = new LinkedHashMap<>();
        Set<String> firing = new TreeSet<>();
        String outcome = await("every panel query returns data for " + JOB_IGNORING + " and "
                + ALERTS_UNDER_TEST + " fire", AWAIT, () -> {
            seriesPerQuery.clear();
            for (GrafanaDashboard.Query q : dashboard.queries()) {
                String expr = GrafanaDashboard.substitute(q.expr(), variables);
                seriesPerQuery.put(q.label() + ": " + expr, prometheus.query(expr).size());
            }
            firing.clear();
            for (JsonNode a : prometheus.alerts()) {
                if (JOB_IGNORING.equals(a.path("labels").path("job").asString(""))
                        && "firing".equals(a.path("state").asString(""))) {
                    firing.add(a.path("labels").path("alertname").asString(""));
                }
            }
            boolean allData = seriesPerQuery.entrySet().stream()
                    .allMatch(e -> e.getValue() > 0 || notThisServicesKind(e.getKey()));
            return allData && firing.containsAll(ALERTS_UNDER_TEST) ? "ok" : null;
        }, () -> "series per query " + seriesPerQuery + "; firing for " + JOB_IGNORING + ": " + firing);
        assertThat(outcome).isEqualTo("ok");
        seriesPerQuery.forEach((q, n) -> System.out.println("[pipeline] " + n + " series  " + q));
        System.out.println("[pipeline] firing for " + JOB_IGNORING + ": " + firing);

        // the data behind the panels is the real thing, not just present
        String job = "job=\"" + JOB_IGNORING + "\"";
        assertThat(prometheus.scalar("sum(backpressure_pending_bytes{" + job + ", backpressure_layer=\"netty\"})"))
                .as("pending bytes").isGreaterThan(1024 * 1024);
        assertThat(prometheus.scalar("sum(backpressure_ignored_writes_total{" + job + "})"))
                .as("ignored writes").isGreaterThan(0);
        assertThat(prometheus.scalar("sum(backpressure_ignored_bytes_total{" + job
                + ", backpressure_signal=\"channel_unwritable\"})")).as("ignored bytes").isGreaterThan(0);
        assertThat(prometheus.query("backpressure_ignored_writes_total{" + job + "}"))
                .as("call sites of ignored writes").extracting(s -> s.path("metric").path("code_function_name")
                        .asString("")).anyMatch(f -> f.startsWith("io.highwater.demo."));
        assertThat(prometheus.scalar("sum(backpressure_drain_wait_seconds_count{" + job + "})"))
                .as("ended drain waits (the pausing respecting client)").isGreaterThan(0);
        assertThat(prometheus.scalar("histogram_quantile(0.5, sum by (le) (rate(backpressure_drain_wait_seconds_bucket{"
                + job + "}[1m])))")).as("median drain wait over the last minute").isPositive().isFinite();
        assertThat(prometheus.scalar("sum(backpressure_drain_stalls_total{" + job + "})"))
                .as("stalls (the pausing client, stall.threshold=2s)").isGreaterThan(0);
        assertThat(prometheus.scalar("min(backpressure_memory_limit_bytes{" + job + "})"))
                .as("the tighter JVM limit: -Xmx256m").isBetween(200.0 * 1024 * 1024, 256.0 * 1024 * 1024);
        // the dashboard's variables find the service
        assertThat(prometheus.labelValues("job", "backpressure_memory_limit_bytes")).contains(JOB_IGNORING);
        assertThat(prometheus.labelValues("backpressure_layer", "backpressure_pending_bytes{" + job + "}"))
                .contains("netty");
        assertThat(prometheus.labelValues("instance", "backpressure_memory_limit_bytes{" + job + "}")).isNotEmpty();
        assertRulesHealthy();
    }

    @Test
    void respectingWriterRaisesNeitherAlert() {
        String job = "job=\"" + JOB_RESPECTING + "\"";
        String scrapes = "max(count_over_time(backpressure_connection_pending_bytes{" + job + "}[10m]))";
        List<String> seen = new ArrayList<>();
        String outcome = await("the respecting connection's pending gauge is scraped 15 times while neither alert"
                + " is pending or firing for " + JOB_RESPECTING, AWAIT, () -> {
            for (JsonNode a : prometheus.alerts()) {
                String name = a.path("labels").path("alertname").asString("");
                if (JOB_RESPECTING.equals(a.path("labels").path("job").asString(""))
                        && ALERTS_UNDER_TEST.contains(name)) {
                    seen.add(name + " " + a.path("state").asString("") + " " + a.path("labels"));
                }
            }
            if (!seen.isEmpty()) {
                return "alerts: " + seen;
            }
            double n = prometheus.scalar(scrapes);
            return n >= 15 ? "ok" : null;
        }, () -> "samples of the connection gauge: " + prometheus.scalar(scrapes));
        assertThat(outcome).as("alerts for %s", JOB_RESPECTING).isEqualTo("ok");
        System.out.println("[pipeline] " + JOB_RESPECTING + ": " + prometheus.scalar(scrapes)
                + " scrapes of its connection, no alert");

        // the service was under backpressure, and respected it
        assertThat(prometheus.scalar("max(max_over_time(backpressure_connection_pending_bytes{" + job + "}[10m]))"))
                .as("the respecting connection had bytes pending").isGreaterThan(0);
        assertThat(prometheus.scalar("sum(backpressure_ignored_bytes_total{" + job + "})"))
                .as("ignored bytes of the respecting service").isEqualTo(0.0);
        assertThat(prometheus.query("backpressure_ignored_writes_total{" + job + "}"))
                .as("no call site ignored anything").isEmpty();
        // the rules were evaluated all along: the recording rule has data for this service too
        assertThat(prometheus.query("job_instance:backpressure_memory_limit_bytes:min{" + job + "}")).isNotEmpty();
        assertThat(prometheus.query("job_instance:backpressure_pending_bytes:sum{" + job + "}")).isNotEmpty();
        assertRulesHealthy();
    }

    /** Every rule of the copy loaded and evaluates without error; the copy equals the original but for for:. */
    private static void assertRulesHealthy() {
        JsonNode groups = prometheus.rules().path("groups");
        List<String> unhealthy = new ArrayList<>();
        int count = 0;
        for (JsonNode g : groups) {
            for (JsonNode r : g.path("rules")) {
                count++;
                if (!"ok".equals(r.path("health").asString(""))) {
                    unhealthy.add(r.path("name").asString("") + ": " + r.path("lastError").asString(""));
                }
            }
        }
        assertThat(unhealthy).as("rules that fail to evaluate").isEmpty();

        YAMLMapper yaml = YAMLMapper.builder().build();
        JsonNode original = yaml.readTree(TestEnv.collectorDir().resolve("alerts.yml").toFile());
        JsonNode copy = yaml.readTree(runDir.resolve("prometheus/alerts.yml").toFile());
        int ruleCount = 0;
        for (JsonNode tree : List.of(original, copy)) {
            ruleCount = 0;
            for (JsonNode g : tree.path("groups")) {
                for (JsonNode r : g.path("rules")) {
                    ((ObjectNode) r).remove("for");
                    ruleCount++;
                }
            }
        }
        assertThat(copy).as("the alerts.yml copy, for: aside").isEqualTo(original);
        assertThat(count).as("rules Prometheus loaded").isEqualTo(ruleCount);
    }

    // --- waiting --------------------------------------------------------------------------------------------

    private static void alive(ChildProcesses.Child child) {
        if (!child.alive()) {
            throw new IllegalStateException(child.describe() + " exited");
        }
    }

    private static String await(String what, Duration timeout, Supplier<String> poll) {
        return await(what, timeout, poll, () -> "");
    }

    /**
     * Polls once a second until {@code poll} returns non-null (its result) or the time is up (fails with
     * {@code state}, the processes and the clients).
     */
    private static String await(String what, Duration timeout, Supplier<String> poll, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long start = System.nanoTime();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                String result = poll.get();
                if (result != null) {
                    System.out.printf("[pipeline] %s: after %.1f s%n", what, (System.nanoTime() - start) / 1e9);
                    return result;
                }
            } catch (IllegalStateException e) {
                fail("while waiting until " + what + ": " + e.getMessage() + processes.describeAll());
            } catch (RuntimeException e) {
                last = e;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting until " + what);
            }
        }
        StringBuilder clients = new StringBuilder();
        readers.forEach(r -> clients.append("\n  ").append(r.describe()));
        return fail("not within " + timeout.toSeconds() + " s: " + what + "\n" + state.get()
                + (last != null ? "\nlast error: " + last : "") + "\nprocesses:" + processes.describeAll()
                + "\nclients:" + clients);
    }
}

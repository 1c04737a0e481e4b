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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 *   <li>scenario C, {@value #JOB_VERTX}: the demo app's Vert.x 5 export that never asks {@code writeQueueFull()}
 *       ({@code /vertx/ignoring}), read at 100 KiB/s: the pile is in Vert.x's own queue on the heap, the connection's
 *       vertx share in Prometheus equals the service's own count, and {@value #PENDING_ALERT} fires.</li>
 * </ul>
 * Without the collector binary or Prometheus the test is skipped, unless {@code HIGHWATER_E2E_REQUIRED=true}.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class PipelineEndToEndTest {
    static final String JOB_IGNORING = "highwater-e2e-ignoring";
    static final String JOB_RESPECTING = "highwater-e2e-respecting";
    static final String JOB_VERTX = "highwater-e2e-vertx";
    /** The alert on pending bytes growing toward the JVM's limit. */
    static final String PENDING_ALERT = "HighwaterPendingBytesWillExhaustMemory";
    /** What the Vert.x export writes at most (its pile's cap, half the heap) and how fast, per second. */
    static final long VERTX_BYTES = 128L << 20;
    static final long VERTX_RATE = 4L << 20;
    /** The Vert.x service's own count, a line a second: {@code vertx export ignoring: queued <n> B (...) ...}. */
    static final Pattern VERTX_TRUTH = Pattern.compile("^vertx export ignoring: queued (\\d+) B \\([^)]*\\) in Vert\\.x"
            + " and Netty, (-?\\d+) B of it in Netty's outbound buffer");
    static final String COLLECTOR_SCRAPE_JOB = "highwater-otel-collector";
    static final List<String> ALERTS_UNDER_TEST =
            List.of("HighwaterIgnoredWrites", "HighwaterPendingBytesWillExhaustMemory");
    static final Duration AWAIT = Duration.ofSeconds(120);

    private static ChildProcesses processes;
    private static final List<SlowReader> readers = new ArrayList<>();
    private static SlowReader vertxReader;
    /** When the Vert.x reader started, seconds since the epoch (Prometheus's clock). */
    private static double vertxReaderStart;
    /** The Vert.x service's truth lines, as they come. */
    private static final List<String> vertxLines = new java.util.concurrent.CopyOnWriteArrayList<>();
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
        // the Vert.x 5 export alone in its JVM: its alerts are its own
        int portV = startService(JOB_VERTX, agent, otlpHttp, List.of("--servlet-port", "-1", "--socket-port", "-1",
                "--grpc-port", "-1", "--vertx-port", "0"), "VERTX-LISTENING ", vertxLines::add, List.of());
        readers.add(new SlowReader("A-ignoring", portA, "/export/ignoring?bytes=400m&rate=1m", 100 * 1024, 0, 0)
                .start());
        readers.add(new SlowReader("A-respecting-pausing", portA, "/export/respecting?bytes=400m", 200 * 1024,
                3000, 4000).start());
        readers.add(new SlowReader("B-respecting", portB, "/export/respecting?bytes=400m", 100 * 1024, 0, 0)
                .start());
        vertxReaderStart = System.currentTimeMillis() / 1000.0;
        vertxReader = new SlowReader("V-vertx-ignoring", portV, "/vertx/ignoring?bytes=" + VERTX_BYTES + "&rate="
                + VERTX_RATE, 100 * 1024, 0, 0).start();
        readers.add(vertxReader);
    }

    /**
     * Panels of layers a Netty HTTP/1.1 service does not have: HTTP/2 streams and gRPC calls, queues of elements that
     * are not bytes (Reactor). Their series are proven by the integration tests of those layers
     * ({@code Http2StreamChannelTest}, {@code GrpcCallNotReadyTest}, {@code ReactorQueueTest}); here they may be empty.
     */
    private static boolean notThisServicesKind(String query) {
        return query.contains("backpressure_stream_pending_bytes") || query.contains("backpressure_pending_items")
                || query.contains("backpressure_http2_connection_window_bytes");
    }

    @BeforeEach
    void skipWhenMissing() {
        TestEnv.requirePipelinePiece(missing == null, missing);
    }

    private static int startDemo(String service, Path agent, int otlpHttpPort, String... moreAgentArgs)
            throws Exception {
        return startService(service, agent, otlpHttpPort, List.of(), "LISTENING ", line -> { },
                List.of(moreAgentArgs));
    }

    /**
     * The demo app's {@code serve} with the agent, as {@code service}, with more {@code serve} arguments; returns the
     * port of the line {@code listeningPrefix <port>}, and hands every line of its output to {@code lines}.
     */
    private static int startService(String service, Path agent, int otlpHttpPort, List<String> serveArgs,
            String listeningPrefix, java.util.function.Consumer<String> lines, List<String> moreAgentArgs)
            throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(
                "otel.exporter.otlp.endpoint=http://127.0.0.1:" + otlpHttpPort,
                "otel.metric.export.interval=1s",
                "otel.service.name=" + service,
                "stall.threshold=2s"));
        args.addAll(moreAgentArgs);
        String agentArgs = String.join(";", args);
        CompletableFuture<String> listening = new CompletableFuture<>();
        List<String> command = new ArrayList<>(List.of(TestEnv.javaExecutable().toString(),
                "-Xmx256m", "-XX:MaxDirectMemorySize=512m",
                "-javaagent:" + agent + "=" + agentArgs,
                "-jar", TestEnv.demoJar().toString(),
                "serve", "--port", "0", "--status-interval", "0"));
        command.addAll(serveArgs);
        java.util.function.Consumer<String> firstListening =
                ChildProcesses.firstLineStartingWith(listeningPrefix, listening);
        ChildProcesses.Child demo = processes.start(service, command, Map.of(), runDir,
                runDir.resolve(service + ".log"), line -> {
                    firstListening.accept(line);
                    lines.accept(line);
                });
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

    /**
     * A Vert.x 5 export that never asks {@code writeQueueFull()} ({@code /vertx/ignoring} of the demo app, 4 MiB/s of
     * rows up to 128 MiB) behind a 100 KiB/s reader, in its own JVM ({@value #JOB_VERTX}, {@code -Xmx256m}): the
     * rows pile up in Vert.x's queue on the heap, which only the vertx layer sees (Netty holds about its high-water
     * mark). Through the collector and Prometheus: the connection's vertx share is there beside its netty share, and
     * once the export has handed over everything (the pile then only drains, at the reader's pace) it equals the
     * service's own count of bytes handed to Vert.x and not written yet, less Netty's own count of its outbound
     * buffer; the pending-bytes alert ({@value #PENDING_ALERT}) goes to firing for that service, and so does the alert
     * on ignored writes, for layer vertx, with the method.
     */
    @Test
    void vertxExportIgnoringWriteQueueFullFiresThePendingBytesAlert() {
        String job = "job=\"" + JOB_VERTX + "\"";
        List<String> states = new ArrayList<>();
        String outcome = await(PENDING_ALERT + " fires for " + JOB_VERTX, AWAIT, () -> {
            String state = alertState(JOB_VERTX, PENDING_ALERT, null);
            if (state != null && (states.isEmpty() || !states.get(states.size() - 1).equals(state))) {
                states.add(state);
            }
            return "firing".equals(state) ? "ok" : null;
        }, () -> "states seen " + states + "; vertx pending "
                + prometheus.scalar("sum(backpressure_pending_bytes{" + job + ", backpressure_layer=\"vertx\"})"));
        assertThat(outcome).isEqualTo("ok");
        System.out.println("[pipeline] " + PENDING_ALERT + " for " + JOB_VERTX + ": states seen " + states);
        // Prometheus keeps the alert's states as the ALERTS series: it went pending first, then firing
        String alertSeries = "ALERTS{alertname=\"" + PENDING_ALERT + "\", " + job + ", alertstate=\"%s\"}";
        double pendingAt = prometheus.scalar("min_over_time(timestamp(" + String.format(alertSeries, "pending")
                + ")[10m:1s])");
        String firingSince = "min_over_time(timestamp(" + String.format(alertSeries, "firing") + ")[10m:1s])";
        // the series' newest sample may fall after the newest step of the subquery: a second or two later
        await("the firing state is in the ALERTS series", Duration.ofSeconds(20),
                () -> Double.isFinite(prometheus.scalar(firingSince)) ? "" : null);
        double firingAt = prometheus.scalar(firingSince);
        assertThat(pendingAt).as("when the alert went pending").isFinite();
        assertThat(firingAt).as("when it went firing").isFinite().isGreaterThanOrEqualTo(pendingAt);
        double vertxAtFiring = prometheus.scalar("sum(backpressure_pending_bytes{" + job
                + ", backpressure_layer=\"vertx\"} @ " + firingAt + ")");
        double nettyAtFiring = prometheus.scalar("sum(backpressure_pending_bytes{" + job
                + ", backpressure_layer=\"netty\"} @ " + firingAt + ")");
        System.out.printf("[pipeline] %s for %s: pending %.1f s and firing %.1f s after the reader started, with"
                + " %.1f MiB pending in layer vertx and %.1f KiB in layer netty then%n", PENDING_ALERT, JOB_VERTX,
                pendingAt - vertxReaderStart, firingAt - vertxReaderStart, vertxAtFiring / (1 << 20),
                nettyAtFiring / 1024);
        assertThat(vertxAtFiring).as("what the vertx layer held when the alert fired").isPositive();

        // the export handed over everything: from then on the pile only drains, at 100 KiB/s
        await("the Vert.x export handed all its rows over", AWAIT, () -> vertxLines.stream()
                .anyMatch(l -> l.startsWith("vertx export ignoring: all ")) ? "" : null,
                () -> "last lines " + vertxLines.subList(Math.max(0, vertxLines.size() - 3), vertxLines.size()));
        String connection = job + ", network_peer_port=\"" + vertxReader.localPort() + "\"";
        String vertxShare = "backpressure_connection_pending_bytes{" + connection + ", backpressure_layer=\"vertx\"}";
        String nettyShare = "backpressure_connection_pending_bytes{" + connection + ", backpressure_layer=\"netty\"}";
        // three truth lines later (a line a second): the agent exported and Prometheus scraped a value of that time
        int seen = truthLines().size();
        await("three more truth lines of the Vert.x service", Duration.ofSeconds(30),
                () -> truthLines().size() >= seen + 3 ? "" : null);
        Matcher truth = VERTX_TRUTH.matcher(truthLines().get(truthLines().size() - 1));
        assertThat(truth.find()).isTrue();
        long queued = Long.parseLong(truth.group(1));
        long netty = Long.parseLong(truth.group(2));
        double vertx = prometheus.scalar(vertxShare);
        double total = prometheus.scalar("backpressure_connection_total_pending_bytes{" + connection + "}");
        System.out.printf("[pipeline] %s: vertx share %.0f B in Prometheus, the service's count %d B less Netty's %d B"
                + " = %d B; netty share %.0f B; connection total %.0f B%n", JOB_VERTX, vertx, queued, netty,
                queued - netty, prometheus.scalar(nettyShare), total);
        assertThat(queued).as("the service's own count: the pile").isGreaterThan(100L << 20);
        // Prometheus's sample and the service's line are a few seconds apart: at 100 KiB/s, about 1 MiB. On Temurin
        // 25 the two were once 1.15 MB apart each way (126.93 against 128.08 MB, then 128.07 against 126.93 MB;
        // most runs agree within 1 KB): the pile moved by that much between them. 2 MiB either way
        assertThat(vertx).as("the connection's vertx share in Prometheus against the service's count %d B less"
                + " Netty's %d B", queued, netty).isBetween(queued - netty - 2048.0 * 1024, queued - netty + 2048.0 * 1024);
        assertThat(prometheus.scalar(nettyShare)).as("the connection's netty share: about Netty's high-water mark")
                .isBetween(0.0, 1024.0 * 1024);
        assertThat(total).as("the connection's total over its layers").isGreaterThanOrEqualTo(vertx);
        assertThat(prometheus.scalar("sum(backpressure_pending_bytes{" + job + ", backpressure_layer=\"vertx\"})"))
                .as("the vertx layer's pending bytes").isGreaterThan(100.0 * 1024 * 1024);
        assertThat(prometheus.scalar("sum(backpressure_pending_bytes{" + job + ", backpressure_layer=\"netty\"})"))
                .as("the netty layer's").isLessThan(1024.0 * 1024);
        assertThat(prometheus.query("backpressure_ignored_writes_total{" + job + ", backpressure_layer=\"vertx\","
                + " backpressure_signal=\"write_queue_full\"}"))
                .as("ignored writes of the vertx layer by call site")
                .extracting(r -> r.path("metric").path("code_function_name").asString(""))
                .containsExactly("io.highwater.demo.VertxExport.writeRowsIgnoringBackpressure");
        String ignoredAlert = await("HighwaterIgnoredWrites fires for " + JOB_VERTX + " on layer vertx", AWAIT,
                () -> "firing".equals(alertState(JOB_VERTX, "HighwaterIgnoredWrites", "vertx")) ? "ok" : null);
        assertThat(ignoredAlert).isEqualTo("ok");
        assertRulesHealthy();
    }

    private static List<String> truthLines() {
        return vertxLines.stream().filter(l -> VERTX_TRUTH.matcher(l).find()).toList();
    }

    /** The state of alert {@code name} for {@code job} (and {@code layer}, when not null), or null. */
    private static String alertState(String job, String name, String layer) {
        String state = null;
        for (JsonNode a : prometheus.alerts()) {
            JsonNode labels = a.path("labels");
            if (job.equals(labels.path("job").asString("")) && name.equals(labels.path("alertname").asString(""))
                    && (layer == null || layer.equals(labels.path("backpressure_layer").asString("")))) {
                String s = a.path("state").asString("");
                state = "firing".equals(state) ? state : s;
            }
        }
        return state;
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

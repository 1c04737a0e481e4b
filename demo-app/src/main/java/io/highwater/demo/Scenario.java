package io.highwater.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo: runs the {@link ReportingService} in a child JVM with the highwater agent attached and a capped direct
 * memory, then lets a {@link SlowClient} "phone" download first from the endpoint that respects backpressure, then
 * from the one that ignores it, then (phase 3) from the servlet endpoints of the same process on an embedded
 * Tomcat ({@link ServletServer}: blocking, async respecting, async ignoring), then (phase 4) from its plain-socket
 * endpoint ({@link SocketServer}), narrating each phase and summing up at the end.
 *
 * <p>With the agent, the scenario runs an embedded OTLP receiver ({@link OtlpReceiver}), points the agent at it
 * with a one-second export interval, and shows what the agent exports in a {@link LiveView}: refreshed in place on
 * a terminal, plain {@code [view]} lines otherwise. When an OpenTelemetry Collector is reachable (by default:
 * {@code 127.0.0.1:4318}, probed once) every OTLP request is also forwarded to it unchanged ({@link CollectorTee});
 * when a Prometheus is reachable ({@code 127.0.0.1:9090}), the view shows its alerts ({@link PrometheusAlerts}).
 *
 * <p>The child's stdout and stderr are forwarded line by line, prefixed {@code [service]}; the agent's own lines
 * already start with {@code [highwater]} and are forwarded as they are. Runs on the main thread plus two forwarding
 * threads, one client thread and the view's, receiver's and pollers' daemon threads; prints through one lock.
 */
public final class Scenario {
    private static final String USAGE = String.join("\n",
            "usage: java -jar highwater-demo.jar scenario [options]   (./demo [options] builds and runs this)",
            "  --agent PATH             the agent jar (default agent/target/highwater-agent.jar)",
            "  --no-agent               run the service without the agent (to compare)",
            "  --agent-options OPTS     more agent options, appended after ';' (e.g. highwater.stall.threshold=10s)",
            "  --no-view                no live view: the agent exports to its default endpoint and prints its own",
            "                           console summary instead",
            "  --plain                  the live view as plain lines, even on a terminal",
            "  --view-interval D        how often the plain view prints (default 2s; in place it refreshes twice a"
                    + " second)",
            "  --export-interval D      the agent's metric export interval while the view is on (default 1s)",
            "  --agent-console          keep the agent's own console summary on beside the live view",
            "  --console-interval D     how often the agent prints its console summary (default 2s)",
            "  --collector URL|none     forward the agent's OTLP requests to this collector too (default: use",
            "                           http://127.0.0.1:4318 when something listens there)",
            "  --prometheus URL|none    show this Prometheus's alerts in the view (default: http://127.0.0.1:9090",
            "                           when it answers)",
            "  --xmx SIZE               the service's -Xmx (default 256m)",
            "  --max-direct SIZE        the service's -XX:MaxDirectMemorySize (default 128m)",
            "  --jvm-arg ARG            one more JVM argument for the service (repeatable)",
            "  --java PATH              the java for the service (default: the one running this)",
            "  --transport T            the service's transport: auto | epoll | nio (default auto)",
            "  --rate SIZE              how fast the phone reads, per second (default 200k)",
            "  --bytes SIZE             size of the export (default 400m)",
            "  --ignoring-rate SIZE     how fast /export/ignoring generates rows, per second (default: fast enough"
                    + " to run",
            "                           out of direct memory about halfway through phase 2; 0 = unlimited)",
            "  --respecting-seconds D   length of phase 1 (default 20s)",
            "  --ignoring-seconds D     longest length of phase 2 (default 30s; it ends earlier on the failure)",
            "  --status-interval D      how often the service prints its memory while exports run (default 5s, 2s"
                    + " with --quick; off while the live view is on)",
            "  --servlet-seconds D      length of each servlet download in phase 3 (default 10s)",
            "  --no-servlet             skip phase 3 (the servlet endpoints on embedded Tomcat)",
            "  --socket-seconds D       length of the plain-socket download in phase 4 (default 10s)",
            "  --no-socket              skip phase 4 (the plain java.net.ServerSocket endpoint)",
            "  --quick                  about 25 s in all (5 s and at most 8 s Netty phases, 2 s servlet downloads,"
                    + " a 3 s socket download), for smoke tests");

    private static final Pattern EXPORT_ENDED = Pattern.compile(
            "^export #(\\d+) (respecting|ignoring): ended \\((.*?)\\) after .* peak queued in process (.+)$");
    private static final String DEFAULT_COLLECTOR = "http://127.0.0.1:4318";
    private static final String DEFAULT_PROMETHEUS = "http://127.0.0.1:9090";
    private static final int PROBE_MILLIS = 300;

    private final PrintStream out = System.out;
    private final CompletableFuture<Integer> listening = new CompletableFuture<>();
    private final CompletableFuture<Integer> servletListening = new CompletableFuture<>();
    private final CompletableFuture<Integer> socketListening = new CompletableFuture<>();
    /** What the socket endpoint printed when the phone's download ended: {@code ended (...) after ...}. */
    private final AtomicReference<String> socketEnd = new AtomicReference<>();
    private final AtomicReference<String> servletIgnoringEnd = new AtomicReference<>();
    private final AtomicReference<String> failureLine = new AtomicReference<>();
    private final CountDownLatch failureSeen = new CountDownLatch(1);
    private final AtomicReference<String> respectingPeak = new AtomicReference<>();
    private final AtomicReference<String> ignoringPeak = new AtomicReference<>();
    private final AtomicReference<String> ignoringEndReason = new AtomicReference<>();
    private volatile boolean agentSpoke;
    /** The live view, or null when it is off; set before any thread but main prints. */
    private volatile LiveView view;
    private final AgentTelemetry telemetry = new AgentTelemetry();

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The {@code scenario} sub-command. */
    static int run(String[] args) {
        Args a;
        try {
            a = Args.parse(args,
                    Args.names("agent", "agent-options", "console-interval", "xmx", "max-direct", "jvm-arg", "java",
                            "transport", "rate", "bytes", "respecting-seconds", "ignoring-seconds",
                            "status-interval", "view-interval", "export-interval", "collector", "prometheus",
                            "ignoring-rate", "servlet-seconds", "socket-seconds"),
                    Args.names("no-agent", "quick", "help", "no-view", "plain", "agent-console", "no-servlet",
                            "no-socket"));
            if (a.has("help")) {
                System.out.println(USAGE);
                return 0;
            }
            return new Scenario().play(a);
        } catch (IllegalArgumentException e) {
            System.err.println("scenario: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
    }

    private int play(Args a) {
        boolean quick = a.has("quick");
        boolean withAgent = !a.has("no-agent");
        boolean withView = withAgent && !a.has("no-view");
        long rate = a.size("rate", "200k");
        long bytes = a.size("bytes", "400m");
        long phase1 = a.nanos("respecting-seconds", quick ? "5s" : "20s");
        long phase2 = a.nanos("ignoring-seconds", quick ? "8s" : "30s");
        boolean servlet = !a.has("no-servlet");
        long phase3 = a.nanos("servlet-seconds", quick ? "2s" : "10s");
        boolean socket = !a.has("no-socket");
        long phase4 = a.nanos("socket-seconds", quick ? "3s" : "10s");
        String consoleInterval = a.get("console-interval", "2s");
        long consoleNanos = Units.parseDurationNanos(consoleInterval);
        String exportInterval = a.get("export-interval", "1s");
        long exportNanos = Units.parseDurationNanos(exportInterval);
        long viewNanos = a.nanos("view-interval", "2s");
        boolean agentConsole = !withView || a.has("agent-console");
        String xmx = a.get("xmx", "256m");
        String maxDirect = a.get("max-direct", "128m");
        Units.parseSize(xmx);
        long maxDirectBytes = Units.parseSize(maxDirect);
        long ignoringRate = a.has("ignoring-rate") ? a.size("ignoring-rate", "0")
                : defaultIgnoringRate(maxDirectBytes, phase2);

        Path agent = Paths.get(a.get("agent", "agent/target/highwater-agent.jar")).toAbsolutePath().normalize();
        if (withAgent && !Files.isRegularFile(agent)) {
            System.err.println("scenario: the highwater agent jar is missing: " + agent);
            System.err.println("  build it with `mvn -q -DskipTests -pl agent -am package` from the project root"
                    + " (./demo does this for you), point --agent at it, or run without it: --no-agent");
            return 2;
        }

        // --- where the agent's telemetry goes: the view's receiver, a collector, Prometheus ----------------------
        String collectorUrl = a.get("collector", null);
        boolean collectorAsked = collectorUrl != null;
        if (collectorUrl == null) {
            collectorUrl = CollectorTee.reachable(DEFAULT_COLLECTOR, PROBE_MILLIS) ? DEFAULT_COLLECTOR : "none";
        }
        if (isNone(collectorUrl)) {
            collectorUrl = null;
        }
        String prometheusUrl = a.get("prometheus", null);
        if (prometheusUrl == null) {
            prometheusUrl = PrometheusAlerts.reachable(DEFAULT_PROMETHEUS, PROBE_MILLIS) ? DEFAULT_PROMETHEUS : "none";
        }
        if (isNone(prometheusUrl)) {
            prometheusUrl = null;
        }
        CollectorTee tee = null;
        OtlpReceiver receiver = null;
        PrometheusAlerts alerts = null;
        try {
            if (withView) {
                if (collectorUrl != null) {
                    tee = new CollectorTee(collectorUrl, this::say);
                }
                receiver = OtlpReceiver.start(telemetry, received -> {
                    LiveView v = view;
                    if (v != null) {
                        v.spans(received);
                    }
                }, tee, this::say);
                view = new LiveView(out, LiveView.detect(a.has("plain")), telemetry, viewNanos,
                        receiver.endpoint());
            }
            if (prometheusUrl != null) {
                alerts = new PrometheusAlerts(prometheusUrl, this::say);
                if (view != null) {
                    view.alerts(alerts);
                }
            }
        } catch (IOException e) {
            System.err.println("scenario: could not start the OTLP receiver for the live view: " + e
                    + " (run with --no-view to do without it)");
            closeAll(null, tee, alerts);
            return 1;
        }

        String agentOptions = "otel.service.name=highwater-demo";
        if (withView) {
            agentOptions += ";otel.exporter.otlp.endpoint=" + receiver.endpoint() + ";otel.metric.export.interval="
                    + exportInterval + ";otel.bsp.schedule.delay=500ms";
        } else if (collectorAsked && collectorUrl != null) {
            agentOptions += ";otel.exporter.otlp.endpoint=" + collectorUrl;
        }
        if (agentConsole) {
            agentOptions += ";console=true;console.interval=" + consoleInterval;
        }
        String extra = a.get("agent-options", "");
        if (!extra.isEmpty()) {
            agentOptions += ";" + extra;
            if (withView && extra.contains("otel.exporter.otlp")) {
                say("scenario: --agent-options sets an OTLP endpoint: the live view shows only what the agent still"
                        + " sends to " + receiver.endpoint() + " (use --collector URL to forward to a collector)");
            }
        }

        String java = a.get("java", Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add("-Xmx" + xmx);
        command.add("-XX:MaxDirectMemorySize=" + maxDirect);
        if (a.get("java", null) == null && Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED"); // the epoll transport loads a JNI library
        }
        if (withAgent) {
            command.add("-javaagent:" + agent + "=" + agentOptions);
        }
        command.addAll(a.all("jvm-arg"));
        command.add("-cp");
        command.add(ownClassPath());
        command.add(Main.class.getName());
        command.add("serve");
        command.add("--port");
        command.add("0");
        command.add("--transport");
        command.add(a.get("transport", "auto"));
        command.add("--status-interval");
        command.add(a.get("status-interval", withView ? "0" : quick ? "2s" : "5s"));
        command.add("--servlet-port");
        command.add(servlet ? "0" : "-1");
        command.add("--socket-port");
        command.add(socket ? "0" : "-1");

        say("");
        say("highwater demo: a reporting service streams a " + Units.size(bytes) + " CSV export (rows generated on"
                + " the fly); one customer downloads it over a phone at " + Units.rate(rate) + ".");
        say("  the service runs in a child JVM with -Xmx" + xmx + " -XX:MaxDirectMemorySize=" + maxDirect
                + (withAgent ? " and the highwater agent:" : " and WITHOUT the highwater agent (--no-agent)"));
        if (withAgent) {
            say("    -javaagent:" + relative(agent) + "=" + agentOptions);
        }
        if (withView) {
            say("  the live view shows what the agent exports over OTLP to this demo (" + receiver.endpoint()
                    + ", every " + exportInterval + ")" + (view.mode() == LiveView.Mode.IN_PLACE
                    ? ", refreshed in place" : ", as [view] lines every " + Units.seconds(viewNanos))
                    + "; [span] lines are the agent's episode spans as they arrive.");
        }
        if (tee != null) {
            say("  an OpenTelemetry Collector at " + tee.base() + (collectorAsked ? "" : " answered")
                    + ": every OTLP request of the agent is forwarded to it unchanged.");
        } else if (withView) {
            say("  no collector at " + DEFAULT_COLLECTOR + " (otel-collector/run.sh starts one; or --collector URL):"
                    + " the telemetry stays in this view.");
        }
        if (alerts != null) {
            say("  Prometheus at " + alerts.base() + ": the alerts are at " + alerts.base() + "/alerts, the numbers"
                    + " at " + alerts.base() + "/graph?g0.expr=backpressure_pending_bytes"
                    + (view != null ? "; the view shows which alerts are pending or firing." : "."));
        }
        say("  [service] lines come from the service, [highwater] lines from the agent, [phone] lines from the"
                + " slow client.");
        say("");

        Process service;
        try {
            service = new ProcessBuilder(command).start();
        } catch (IOException e) {
            System.err.println("scenario: could not start " + java + ": " + e.getMessage());
            closeAll(receiver, tee, alerts);
            return 1;
        }
        Thread killer = new Thread(service::destroyForcibly, "scenario-stop-service");
        Runtime.getRuntime().addShutdownHook(killer);
        try {
            service.getOutputStream().close(); // the service reads no input
        } catch (IOException ignored) {
            // nothing to close
        }
        Thread stdout = forward(service.getInputStream(), "service-stdout");
        Thread stderr = forward(service.getErrorStream(), "service-stderr");
        int exit = 0;
        long agentWaitNanos = 2 * exportNanos + TimeUnit.MILLISECONDS.toNanos(1500);
        try {
            int port;
            try {
                port = waitForPort(service, TimeUnit.SECONDS.toNanos(60));
            } catch (IllegalStateException e) {
                say("scenario: " + e.getMessage());
                return 1;
            }
            if (alerts != null) {
                alerts.start(TimeUnit.SECONDS.toNanos(3));
            }
            if (view != null) {
                view.start();
            }

            say("");
            say("phase 1 (" + Units.seconds(phase1) + "): a phone at " + Units.rate(rate) + " downloads the export"
                    + " from /export/respecting, which respects backpressure — watch pending bytes stay flat near"
                    + " the high-water mark (64 KiB).");
            SlowClient.Result r1 = download(port, "/export/respecting", "?bytes=" + Units.sizeArgument(bytes), rate,
                    phase1, () -> false, 0);
            awaitValue(respectingPeak, TimeUnit.SECONDS.toNanos(3));
            if (view != null) {
                awaitAgent(r1.localPort, agentWaitNanos);
            } else {
                sleepNanos(Math.min(consoleNanos, TimeUnit.SECONDS.toNanos(2)));
            }
            if (!service.isAlive()) {
                say("scenario: the service exited during phase 1 (exit code " + service.exitValue() + ")");
                return 1;
            }

            say("");
            say("phase 2 (up to " + Units.seconds(phase2) + "): the same phone downloads from /export/ignoring,"
                    + " which loops write() and never asks Channel.isWritable()"
                    + (ignoringRate > 0 ? " (it generates rows at " + Units.rate(ignoringRate) + ")" : "")
                    + " — watch pending bytes climb until the " + Units.size(maxDirectBytes)
                    + " of direct memory run out"
                    + (withAgent ? "; highwater names the code that ignored the signal"
                            + " (code.function.name io.highwater.demo.NettyExport.writeRowsIgnoringBackpressure)."
                            : "."));
            long phase2Start = System.nanoTime();
            long grace = (view != null ? exportNanos : consoleNanos) + TimeUnit.MILLISECONDS.toNanos(700);
            SlowClient.Result r2 = download(port, "/export/ignoring", "?bytes=" + Units.sizeArgument(bytes)
                            + (ignoringRate > 0 ? "&rate=" + Units.sizeArgument(ignoringRate) : ""), rate, phase2,
                    () -> failureSeen.getCount() == 0, grace);
            awaitValue(ignoringPeak, TimeUnit.SECONDS.toNanos(2));
            if (view != null) {
                awaitAgent(r2.localPort, agentWaitNanos);
            }
            long failureAfter = failureAt - phase2Start;
            boolean alive = service.isAlive();
            String health = alive ? health(port) : "not asked: the service is gone (exit code "
                    + service.exitValue() + ")";
            if (alive) {
                say("GET /health → " + health);
            }
            SlowClient.Result[] r3 = null;
            if (servlet && alive) {
                r3 = servletPhase(service, rate, bytes, phase3, agentWaitNanos);
            }
            SlowClient.Result r4 = null;
            if (socket && service.isAlive()) {
                r4 = socketPhase(service, rate, bytes, phase4, agentWaitNanos);
            }
            if (view != null) {
                view.finish();
            }

            say("");
            say("summary");
            say("  phase 1, /export/respecting: the phone read " + Units.size(r1.bodyBytes) + " in "
                    + Units.seconds(r1.nanos) + " (" + Units.rate(r1.bytesPerSecond()) + ")"
                    + (respectingPeak.get() != null ? "; the service held at most " + respectingPeak.get()
                            + " for it" : ""));
            say("  phase 2, /export/ignoring:   the phone read " + Units.size(r2.bodyBytes) + " in "
                    + Units.seconds(r2.nanos) + " (" + Units.rate(r2.bytesPerSecond()) + ")"
                    + (ignoringPeak.get() != null ? "; the service queued up to " + ignoringPeak.get() + " for it"
                            + (ignoringEndReason.get() != null ? " (" + ignoringEndReason.get() + ")" : "") : ""));
            if (failureLine.get() != null) {
                say("  direct-memory failure reported by the service: yes, " + Units.seconds(failureAfter)
                        + " into phase 2 — Netty failed the allocation/write, the connection was closed");
            } else {
                say("  direct-memory failure reported by the service: no (raise --ignoring-seconds or --bytes, or"
                        + " lower --max-direct)");
            }
            say("  the service afterwards: " + (alive ? "still up, /health " + health
                    : "GONE (exit code " + service.exitValue() + ")"));
            if (r3 != null) {
                say("  phase 3, servlets on " + SERVLET_CONTAINER + ": /servlet/blocking read " + Units.size(r3[0].bodyBytes)
                        + ", /servlet/respecting " + Units.size(r3[1].bodyBytes) + ", /servlet/ignoring "
                        + Units.size(r3[2].bodyBytes) + (servletIgnoringEnd.get() != null
                        ? " (" + servletIgnoringEnd.get() + ")" : ""));
            }
            if (r4 != null) {
                say("  phase 4, " + SOCKET_SERVER + ": /socket/export read " + Units.size(r4.bodyBytes) + " in "
                        + Units.seconds(r4.nanos) + " (" + Units.rate(r4.bytesPerSecond()) + ")"
                        + (socketEnd.get() != null ? "; the service's export " + socketEnd.get() : ""));
            }
            if (view != null) {
                summarizeTelemetry(r1, r2, r3, r4);
            } else if (withAgent) {
                say("  agent: " + relative(agent) + (agentSpoke ? "; its [highwater] lines are above"
                        : "; it printed no [highwater] console lines (console output not available in this build?)"));
            } else {
                say("  agent: not attached (--no-agent): nothing in the process said which code ignored backpressure");
            }
            if (!alive) {
                exit = 1;
            }
        } finally {
            if (view != null) {
                view.finish();
            }
            stopService(service);
            joinQuietly(stdout, 3000);
            joinQuietly(stderr, 3000);
            if (tee != null) {
                tee.drain(2000);
                if (tee.forwarded.get() + tee.failed.get() + tee.dropped.get() > 0) {
                    say("  collector " + tee.base() + ": " + tee.forwarded.get() + " OTLP requests forwarded"
                            + (tee.failed.get() > 0 ? ", " + tee.failed.get() + " failed" : "")
                            + (tee.dropped.get() > 0 ? ", " + tee.dropped.get() + " dropped (collector too slow)"
                                    : ""));
                }
            }
            if (alerts != null) {
                say("  Prometheus: " + alerts.base() + "/alerts"
                        + (alerts.states().isEmpty() ? "" : " (last seen: " + alerts.states() + ")"));
            }
            closeAll(receiver, tee, alerts);
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
        return exit;
    }

    /** The port the service said (in {@code line}) it listens on for a phase; null, said why, when it did not. */
    private Integer listeningPort(CompletableFuture<Integer> listening, String line, int phase) {
        try {
            return listening.get(0, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException e) {
            say("scenario: the service did not print " + line.trim() + ": phase " + phase + " skipped");
            return null;
        }
    }

    private static final String SERVLET_CONTAINER = "embedded Tomcat 11";

    /**
     * Phase 3: the same phone against the servlet endpoints, one after the other: blocking, async respecting, async
     * ignoring. Returns their results in that order.
     */
    private SlowClient.Result[] servletPhase(Process service, long rate, long bytes, long seconds, long agentWaitNanos) {
        Integer port = listeningPort(servletListening, ReportingService.SERVLET_LISTENING, 3);
        if (port == null) {
            return null;
        }
        String query = "?bytes=" + Units.sizeArgument(bytes);
        SlowClient.Result[] r = new SlowClient.Result[3];
        say("");
        say("phase 3 (" + Units.seconds(seconds) + " each): the same phone downloads from servlets on "
                + SERVLET_CONTAINER + ", port " + port + ".");
        say("  /servlet/blocking writes in a loop: it cannot ignore the client, its request thread waits inside"
                + " write() — watch blocked connections and drain waits (what exhausts a thread pool).");
        r[0] = download(port, "/servlet/blocking", query, rate, seconds, () -> false, 0);
        awaitMetrics(agentWaitNanos);
        say("  /servlet/respecting is async and writes only while isReady(), resuming in onWritePossible():"
                + " no thread waits, no ignored writes.");
        r[1] = download(port, "/servlet/respecting", query, rate, seconds, () -> false, 0);
        awaitMetrics(agentWaitNanos);
        say("  /servlet/ignoring is async and writes although isReady() said false: Tomcat refuses the write"
                + " (IllegalStateException) and the download breaks off"
                + (view != null ? "; highwater counts the ignored write and names"
                + " io.highwater.demo.ServletExport.writeRowsIgnoringReadiness." : "."));
        r[2] = download(port, "/servlet/ignoring", query, rate, seconds, () -> false, 0);
        awaitMetrics(agentWaitNanos);
        if (!service.isAlive()) {
            say("scenario: the service exited during phase 3 (exit code " + service.exitValue() + ")");
        }
        return r;
    }

    private static final String SOCKET_SERVER = "plain java.net.ServerSocket";

    /** Phase 4: the same phone against the plain-socket endpoint; null when it could not run. */
    private SlowClient.Result socketPhase(Process service, long rate, long bytes, long seconds, long agentWaitNanos) {
        Integer port = listeningPort(socketListening, ReportingService.SOCKET_LISTENING, 4);
        if (port == null) {
            return null;
        }
        say("");
        say("phase 4 (" + Units.seconds(seconds) + "): the same phone downloads from /socket/export, a "
                + SOCKET_SERVER + " with a thread per connection, port " + port + ".");
        say("  it writes the rows through a BufferedOutputStream and cannot ignore backpressure either: while the"
                + " kernel's send buffer is full, the writing thread blocks in write()"
                + (view != null ? " — watch the socket layer's blocked connection and drain waits, and the kernel"
                + " send queue beside the process's pending bytes (what is left of the blocked call: at most the "
                + Units.size(SocketExport.BUFFER_SIZE) + " the BufferedOutputStream hands over at a time)." : "."));
        SlowClient.Result r = download(port, "/socket/export", "?bytes=" + Units.sizeArgument(bytes), rate, seconds,
                () -> false, 0);
        // the writing thread learns that the phone is gone at its next write: a moment after the phone closed
        awaitValue(socketEnd, TimeUnit.SECONDS.toNanos(2));
        awaitMetrics(agentWaitNanos);
        if (!service.isAlive()) {
            say("scenario: the service exited during phase 4 (exit code " + service.exitValue() + ")");
        }
        return r;
    }

    /** With the view: waits until a metrics batch newer than now arrived. */
    private void awaitMetrics(long timeoutNanos) {
        if (view != null) {
            awaitAgent(-1, timeoutNanos);
        }
    }

    /** Direct memory runs out about halfway through phase 2: maximum direct memory / (phase 2 / 2), in MiB/s. */
    static long defaultIgnoringRate(long maxDirectBytes, long phase2Nanos) {
        double seconds = Math.max(1, phase2Nanos / 2e9);
        long mib = Math.max(1, Math.round(maxDirectBytes / seconds / (1 << 20)));
        return mib << 20;
    }

    private static boolean isNone(String url) {
        return url == null || url.isEmpty() || "none".equalsIgnoreCase(url) || "off".equalsIgnoreCase(url);
    }

    private static void closeAll(OtlpReceiver receiver, CollectorTee tee, PrometheusAlerts alerts) {
        if (receiver != null) {
            receiver.close();
        }
        if (tee != null) {
            tee.close();
        }
        if (alerts != null) {
            alerts.close();
        }
    }

    /** Waits until a metrics batch newer than now arrived and the span of the connection on {@code port}. */
    private void awaitAgent(int port, long timeoutNanos) {
        long since = System.nanoTime();
        long deadline = since + timeoutNanos;
        while (System.nanoTime() < deadline) {
            boolean batch = telemetry.snapshot().lastMetricsNanos > since;
            boolean span = port < 0 || view.spanArrived(port);
            if (batch && span) {
                return;
            }
            sleepNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private void summarizeTelemetry(SlowClient.Result r1, SlowClient.Result r2, SlowClient.Result[] r3,
                                    SlowClient.Result r4) {
        AgentTelemetry.Snapshot s = telemetry.snapshot();
        say("  agent, as it exported over OTLP: " + s.metricBatches + " metric batches, " + s.spans + " episode span"
                + (s.spans == 1 ? "" : "s"));
        say("    /export/respecting: peak pending " + peak(s, r1.localPort) + "; /export/ignoring: peak pending "
                + peak(s, r2.localPort));
        if (s.ignoredWrites.isEmpty()) {
            say("    ignored writes: none exported");
        }
        if (r3 != null) {
            say("    /servlet/blocking: peak pending " + peak(s, r3[0].localPort) + "; /servlet/respecting: peak"
                    + " pending " + peak(s, r3[1].localPort) + "; /servlet/ignoring: peak pending "
                    + peak(s, r3[2].localPort));
        }
        if (r4 != null) {
            Long kernel = r4.localPort < 0 ? null : s.kernelQueuedPeak.get((long) r4.localPort);
            say("    /socket/export: peak pending " + peak(s, r4.localPort) + "; kernel send queue up to "
                    + (kernel == null ? "not exported" : Units.size(kernel)));
        }
        for (java.util.Map.Entry<String, Long> e : s.ignoredWrites.entrySet()) {
            say("    ignored writes: " + e.getValue() + " at " + e.getKey());
        }
        for (java.util.Map.Entry<String, DrainWaitHistogram> e : s.drainWait.entrySet()) {
            say("    drain wait (" + e.getKey() + "): " + LiveView.quantiles(e.getValue()));
        }
    }

    private static String peak(AgentTelemetry.Snapshot s, int port) {
        Long p = port < 0 ? null : s.connectionPeak.get((long) port);
        return p == null ? "not exported" : Units.size(p);
    }

    private volatile long failureAt;

    /**
     * Runs the phone against {@code endpoint + query} for at most {@code maxNanos}; {@code stopWhen} adds an early
     * end. With the live view on, the view follows the download and the phone prints no progress lines of its own.
     */
    private SlowClient.Result download(int port, String endpoint, String query, long rate, long maxNanos,
                                       java.util.function.BooleanSupplier stopWhen, long graceNanos) {
        LiveView v = view;
        SlowClient.Options options = new SlowClient.Options()
                .target("127.0.0.1", port, endpoint + query).rate(rate).maxNanos(maxNanos).label("phone")
                .lines(this::say);
        if (v != null) {
            options.progressNanos(0).onConnected(local -> v.connected(endpoint, local));
        }
        SlowClient client = new SlowClient(options);
        if (v != null) {
            v.endpoint(endpoint, client::progress);
        }
        AtomicReference<SlowClient.Result> result = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(client.download());
            } catch (IOException e) {
                say("[phone] failed: " + e);
            }
        }, "phone");
        t.setDaemon(true);
        t.start();
        long stopAt = -1;
        while (t.isAlive()) {
            joinQuietly(t, 100);
            if (stopAt < 0 && stopWhen.getAsBoolean()) {
                stopAt = System.nanoTime() + graceNanos;
            }
            if (stopAt >= 0 && System.nanoTime() >= stopAt) {
                client.stop();
                joinQuietly(t, 2000);
                break;
            }
        }
        SlowClient.Result r = result.get();
        if (r == null) {
            r = new SlowClient.Result();
        }
        r.localPort = client.progress().localPort;
        return r;
    }

    private int waitForPort(Process service, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            try {
                return listening.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (!service.isAlive()) {
                    // let the forwarders print its last words first
                    sleepNanos(TimeUnit.MILLISECONDS.toNanos(300));
                    throw new IllegalStateException("the service exited (code " + service.exitValue()
                            + ") before it printed LISTENING; its output is above");
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the service did not print LISTENING within "
                            + Units.seconds(timeoutNanos));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the service");
            } catch (ExecutionException e) {
                throw new IllegalStateException(String.valueOf(e.getCause()));
            }
        }
    }

    private Thread forward(InputStream stream, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    onServiceLine(line);
                }
            } catch (IOException ignored) {
                // the service is gone
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void onServiceLine(String line) {
        if (line.startsWith("[highwater]")) {
            agentSpoke = true;
            say(line);
            return;
        }
        say("[service] " + line);
        if (line.startsWith(ReportingService.SERVLET_LISTENING)) {
            try {
                servletListening.complete(Integer.parseInt(
                        line.substring(ReportingService.SERVLET_LISTENING.length()).trim()));
            } catch (NumberFormatException e) {
                servletListening.completeExceptionally(new IllegalStateException("bad line: " + line));
            }
        } else if (line.startsWith(ReportingService.SOCKET_LISTENING)) {
            try {
                socketListening.complete(Integer.parseInt(
                        line.substring(ReportingService.SOCKET_LISTENING.length()).trim()));
            } catch (NumberFormatException e) {
                socketListening.completeExceptionally(new IllegalStateException("bad line: " + line));
            }
        } else if (line.startsWith(SocketExport.ENDED) && line.contains(": ended (")) {
            socketEnd.set(line.substring(line.indexOf(": ended (") + 2));
        } else if (line.startsWith("servlet export ignoring: ")) {
            servletIgnoringEnd.set(line.substring("servlet export ignoring: ".length()));
        } else if (line.startsWith(ReportingService.LISTENING)) {
            try {
                listening.complete(Integer.parseInt(line.substring(ReportingService.LISTENING.length()).trim()));
            } catch (NumberFormatException e) {
                listening.completeExceptionally(new IllegalStateException("bad LISTENING line: " + line));
            }
        } else if (line.contains(ReportingService.FAILURE_MARKER) && failureLine.compareAndSet(null, line)) {
            failureAt = System.nanoTime();
            failureSeen.countDown();
        } else {
            Matcher m = EXPORT_ENDED.matcher(line);
            if (m.matches()) {
                if ("respecting".equals(m.group(2))) {
                    respectingPeak.set(m.group(4));
                } else {
                    ignoringEndReason.set(m.group(3));
                    ignoringPeak.set(m.group(4));
                }
            }
        }
    }

    private static String health(int port) {
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.setSoTimeout(5000);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            OutputStream o = s.getOutputStream();
            o.write(("GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            o.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII));
            String status = in.readLine();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (status == null) {
                return "no answer (connection closed)";
            }
            String[] parts = status.split(" ", 3);
            return (parts.length > 1 ? parts[1] : status) + " in " + ms + " ms";
        } catch (IOException e) {
            return "failed: " + e;
        }
    }

    /**
     * Stops the service: SIGTERM, then SIGKILL after two seconds (the agent may try a last export to a collector
     * that is not there; the demo does not wait for it).
     */
    private static void stopService(Process service) {
        if (!service.isAlive()) {
            return;
        }
        service.destroy();
        try {
            if (!service.waitFor(2, TimeUnit.SECONDS)) {
                service.destroyForcibly();
                service.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            service.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitValue(AtomicReference<String> ref, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (ref.get() == null && System.nanoTime() < deadline) {
            sleepNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void joinQuietly(Thread t, long millis) {
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The jar this class was loaded from (the shaded demo jar): the child runs the same code. From a classes
     * directory (tests, an IDE) the dependencies are elsewhere: this JVM's class path then.
     */
    private static String ownClassPath() {
        try {
            Path own = Paths.get(Scenario.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isDirectory(own) ? System.getProperty("java.class.path") : own.toString();
        } catch (URISyntaxException | RuntimeException e) {
            return System.getProperty("java.class.path");
        }
    }

    private static String relative(Path p) {
        Path cwd = Paths.get("").toAbsolutePath();
        return p.startsWith(cwd) ? cwd.relativize(p).toString() : p.toString();
    }

    private void say(String line) {
        LiveView v = view;
        if (v != null) {
            v.log(line);
            return;
        }
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}

package io.highwater.demo;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The scenario's live terminal view of what the highwater agent exports: per endpoint, the download's progress
 * (from the slow client), the pending bytes now and at their peak, and the ignored writes with their call site;
 * then the layer's blocked connections, oldest wait, stalls and pending bytes against the direct-memory limit; the
 * drain-wait quantiles estimated from the exported histogram; and, when a Prometheus is known, its alerts.
 *
 * <p>Everything but the download progress comes from the agent's OTLP export ({@link AgentTelemetry}). A connection
 * belongs to an endpoint when its {@code network.peer.port} is the local port of the slow client's socket for that
 * endpoint ({@link EndpointMap}). The ignored writes of an endpoint are the increase of the exported
 * {@code backpressure.ignored.writes} counter while that endpoint's download was the current one (the counter is
 * per call site, not per connection; the scenario runs one download at a time).
 *
 * <p>Two ways to show it ({@link #decide}): on a terminal the block is redrawn in place, like a progress display
 * (ANSI cursor-up and clear-line), with every other line printed above it; otherwise (a pipe, a file, a dumb
 * terminal) it is printed as plain {@code [view]} lines every few seconds.
 *
 * <p>Thread-safe: {@link #log} may be called from any thread; all printing happens under one lock.
 */
final class LiveView implements AutoCloseable {
    /** How the view is printed. */
    enum Mode {
        /** Redrawn in place with ANSI escapes. */
        IN_PLACE,
        /** Plain lines every few seconds. */
        PLAIN
    }

    static final String ESC = "\u001b[";

    private final PrintStream out;
    private final Mode mode;
    private final AgentTelemetry telemetry;
    private final long plainEveryNanos;
    private final String otlpEndpoint;
    private long startedNanos = System.nanoTime();
    private final Object lock = new Object();
    private final EndpointMap endpoints = new EndpointMap();
    private final Map<String, Endpoint> byName = new LinkedHashMap<>();
    private final ScheduledExecutorService refresher;
    private volatile PrometheusAlerts alerts;
    private int width = 100;
    /** Block lines currently on screen (in-place mode); the cursor is at the start of the line below them. */
    private int drawn;
    private boolean started;
    private boolean finished;
    private long lastPlainNanos;
    private final Map<Long, AgentTelemetry.SpanSummary> spansByPort = new HashMap<>();

    /** One endpoint the slow client downloads from. */
    static final class Endpoint {
        final String name;
        final Supplier<SlowClient.Progress> progress;
        /** {@code code.function.name} → ignored writes exported before this endpoint's download started. */
        final Map<String, Long> ignoredBaseline;
        /** The same when the next endpoint started, or null while this one is the current one. */
        Map<String, Long> ignoredAtEnd;
        boolean shownFinished;

        Endpoint(String name, Supplier<SlowClient.Progress> progress, Map<String, Long> ignoredBaseline) {
            this.name = name;
            this.progress = progress;
            this.ignoredBaseline = ignoredBaseline;
        }
    }

    LiveView(PrintStream out, Mode mode, AgentTelemetry telemetry, long plainEveryNanos, String otlpEndpoint) {
        this.out = out;
        this.mode = mode;
        this.telemetry = telemetry;
        this.plainEveryNanos = plainEveryNanos;
        this.otlpEndpoint = otlpEndpoint;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "live-view");
            t.setDaemon(true);
            return t;
        });
        if (mode == Mode.IN_PLACE) {
            width = terminalWidth();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // in place or plain

    /**
     * In place only on an interactive terminal that understands ANSI escapes: a console is attached (and, on JDK 22+
     * where {@code System.console()} also answers for redirected output, it is a terminal) and {@code TERM} is not
     * {@code dumb}. {@code forcePlain} (the {@code --plain} option) always wins.
     *
     * @param consoleIsTerminal {@code Console.isTerminal()} where the JDK has it (22+), else null
     */
    static Mode decide(boolean hasConsole, Boolean consoleIsTerminal, String term, boolean forcePlain) {
        if (forcePlain || !hasConsole || Boolean.FALSE.equals(consoleIsTerminal)) {
            return Mode.PLAIN;
        }
        if (term != null && term.trim().equalsIgnoreCase("dumb")) {
            return Mode.PLAIN;
        }
        return Mode.IN_PLACE;
    }

    /** {@link #decide} for this process. */
    static Mode detect(boolean forcePlain) {
        Object console = System.console();
        Boolean isTerminal = null;
        if (console != null) {
            try {
                Method m = console.getClass().getMethod("isTerminal");
                isTerminal = (Boolean) m.invoke(console);
            } catch (ReflectiveOperationException | RuntimeException e) {
                isTerminal = null; // JDK before 22: a console means a terminal
            }
        }
        return decide(console != null, isTerminal, System.getenv("TERM"), forcePlain);
    }

    Mode mode() {
        return mode;
    }

    // ------------------------------------------------------------------------------------------------------------
    // what the scenario tells the view

    /** Starts the periodic refresh (in place: twice a second; plain: every {@code plainEveryNanos}). */
    void start() {
        synchronized (lock) {
            if (started) {
                return;
            }
            started = true;
            startedNanos = System.nanoTime();
            lastPlainNanos = startedNanos;
        }
        long every = mode == Mode.IN_PLACE ? TimeUnit.MILLISECONDS.toNanos(500) : Math.max(plainEveryNanos,
                TimeUnit.MILLISECONDS.toNanos(500));
        refresher.scheduleAtFixedRate(this::refresh, every, every, TimeUnit.NANOSECONDS);
    }

    void alerts(PrometheusAlerts alerts) {
        this.alerts = alerts;
    }

    /** A download from {@code name} begins now; the previous endpoint's window of ignored writes closes. */
    void endpoint(String name, Supplier<SlowClient.Progress> progress) {
        Map<String, Long> now = new TreeMap<>(telemetry.snapshot().ignoredWrites);
        synchronized (lock) {
            for (Endpoint e : byName.values()) {
                if (e.ignoredAtEnd == null) {
                    e.ignoredAtEnd = now;
                }
            }
            byName.put(name, new Endpoint(name, progress, now));
        }
    }

    /** The slow client's socket for {@code endpoint} has local port {@code port}. */
    void connected(String endpoint, int port) {
        endpoints.assign(port, endpoint);
    }

    EndpointMap endpoints() {
        return endpoints;
    }

    /** Prints one line per received episode span. */
    void spans(List<AgentTelemetry.SpanSummary> spans) {
        for (AgentTelemetry.SpanSummary s : spans) {
            synchronized (lock) {
                if (s.peerPort >= 0) {
                    spansByPort.put(s.peerPort, s);
                }
            }
            log(spanLine(s, endpoints.endpointOf(s.peerPort)));
        }
    }

    /** True once a span for the connection with peer port {@code port} has arrived. */
    boolean spanArrived(long port) {
        synchronized (lock) {
            return spansByPort.containsKey(port);
        }
    }

    /** Prints a line: in place, above the block (which is redrawn below it). */
    void log(String line) {
        synchronized (lock) {
            if (mode == Mode.IN_PLACE && started && !finished) {
                redraw(Collections.singletonList(line), block(System.nanoTime()));
            } else {
                out.println(line);
                out.flush();
            }
        }
    }

    /** Stops refreshing and leaves the final state on screen (plain: prints it once more). */
    void finish() {
        refresher.shutdownNow();
        synchronized (lock) {
            if (finished) {
                return;
            }
            if (mode == Mode.IN_PLACE) {
                if (started) {
                    redraw(Collections.emptyList(), block(System.nanoTime()));
                }
            } else {
                printPlain(System.nanoTime(), true);
            }
            finished = true;
        }
    }

    @Override
    public void close() {
        finish();
    }

    private void refresh() {
        try {
            synchronized (lock) {
                if (finished) {
                    return;
                }
                long now = System.nanoTime();
                if (mode == Mode.IN_PLACE) {
                    redraw(Collections.emptyList(), block(now));
                } else {
                    printPlain(now, false);
                }
            }
        } catch (RuntimeException e) {
            out.println("[view] refresh failed: " + e);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // printing

    /** Moves up over the block on screen, prints the log lines, then the new block, each line cleared first. */
    private void redraw(List<String> logLines, List<String> block) {
        StringBuilder b = new StringBuilder();
        if (drawn > 0) {
            b.append('\r').append(ESC).append(drawn).append('A');
        }
        if (!logLines.isEmpty()) {
            // a log line wider than the terminal wraps onto rows the block used: clear them all first
            b.append(ESC).append('J');
        }
        for (String l : logLines) {
            b.append(ESC).append("2K").append(l).append('\n');
        }
        for (String l : block) {
            b.append(ESC).append("2K").append(fit(l, width - 1)).append('\n');
        }
        if (logLines.isEmpty() && block.size() < drawn) {
            b.append(ESC).append('J'); // the new block is shorter: clear what is left of the old one
        }
        drawn = block.size();
        out.print(b);
        out.flush();
    }

    private void printPlain(long now, boolean all) {
        if (!all && now - lastPlainNanos < plainEveryNanos - TimeUnit.MILLISECONDS.toNanos(100)) {
            return;
        }
        lastPlainNanos = now;
        for (String l : plainBlock(now, all)) {
            out.println("[view] " + l);
        }
        out.flush();
    }

    static String fit(String line, int width) {
        if (width <= 1 || line.length() <= width) {
            return line;
        }
        return line.substring(0, width - 1) + "…";
    }

    // ------------------------------------------------------------------------------------------------------------
    // the block

    /** The block in place: a header, every endpoint, the layer, the drain waits, the alerts. */
    List<String> block(long now) {
        AgentTelemetry.Snapshot s = telemetry.snapshot();
        List<String> lines = new ArrayList<>();
        lines.add(header(s, now));
        for (Endpoint e : byName.values()) {
            endpointLines(e, s, lines);
        }
        otherConnections(s, lines);
        layerLines(s, lines);
        alertLine(lines);
        return lines;
    }

    /** Connections under pressure that are none of the demo's downloads (someone else's client). */
    private void otherConnections(AgentTelemetry.Snapshot s, List<String> lines) {
        long bytes = 0;
        int n = 0;
        for (Map.Entry<Long, Long> e : s.connectionPending.entrySet()) {
            if (endpoints.endpointOf(e.getKey()) == null) {
                bytes += e.getValue();
                n++;
            }
        }
        if (n > 0) {
            lines.add(String.format(Locale.ROOT, "%-19s %d connection%s, %s pending", "other clients", n,
                    n == 1 ? "" : "s", Units.size(bytes)));
        }
    }

    /** The block as plain lines: endpoints still downloading, and ended ones once; everything when {@code all}. */
    List<String> plainBlock(long now, boolean all) {
        AgentTelemetry.Snapshot s = telemetry.snapshot();
        List<String> lines = new ArrayList<>();
        lines.add(header(s, now));
        for (Endpoint e : byName.values()) {
            boolean done = e.progress.get().finished;
            if (all || !done || !e.shownFinished) {
                endpointLines(e, s, lines);
                e.shownFinished = done;
            }
        }
        otherConnections(s, lines);
        layerLines(s, lines);
        alertLine(lines);
        return lines;
    }

    private String header(AgentTelemetry.Snapshot s, long now) {
        String batches = s.metricBatches == 0 ? "no metrics yet"
                : "metrics #" + s.metricBatches + " " + Units.seconds(now - s.lastMetricsNanos) + " ago";
        return "highwater agent via OTLP " + otlpEndpoint + ", t+" + Units.seconds(now - startedNanos) + ": "
                + batches + "; " + s.spans + " span" + (s.spans == 1 ? "" : "s");
    }

    private void endpointLines(Endpoint e, AgentTelemetry.Snapshot s, List<String> lines) {
        SlowClient.Progress p = e.progress.get();
        StringBuilder d = new StringBuilder(String.format(Locale.ROOT, "%-19s ", e.name));
        if (p.localPort < 0 && !p.finished) {
            d.append("connecting");
        } else {
            d.append(Units.size(p.bodyBytes));
            if (p.contentLength >= 0) {
                d.append(" of ").append(Units.size(p.contentLength));
            }
            d.append(" at ").append(Units.rate(p.bytesPerSecond())).append(", ").append(Units.seconds(p.elapsedNanos));
            if (p.localPort >= 0) {
                d.append(", port ").append(p.localPort);
            }
            if (p.finished) {
                d.append(", ").append(p.endReason);
            }
        }
        lines.add(d.toString());

        StringBuilder q = new StringBuilder("    pending ");
        if (s.metricBatches == 0) {
            q.append("(no export yet)");
        } else {
            long now = 0;
            for (long v : endpoints.pendingOf(e.name, s.connectionPending).values()) {
                now += v;
            }
            long peak = -1;
            for (long port : endpoints.portsOf(e.name)) {
                Long pk = s.connectionPeak.get(port);
                if (pk != null) {
                    peak = Math.max(peak, pk);
                }
            }
            q.append(Units.size(now));
            // several layers hold bytes of the connection (a framework's queue above Netty): each one's share
            Map<String, Long> shares = new TreeMap<>();
            for (long port : endpoints.pendingOf(e.name, s.connectionPending).keySet()) {
                Map<String, Long> byLayer = s.connectionShares.get(port);
                if (byLayer != null) {
                    byLayer.forEach((layer, bytes) -> shares.merge(layer, bytes, Long::sum));
                }
            }
            if (shares.size() > 1) {
                q.append(" (").append(sharesText(shares)).append(')');
            }
            q.append(" now, peak ").append(peak < 0 ? "-" : Units.size(peak));
            // the other half of the backlog: what the socket took and the client has not acknowledged
            Map<Long, Long> kernel = endpoints.pendingOf(e.name, s.kernelQueued);
            if (!kernel.isEmpty()) {
                long queued = 0;
                for (long v : kernel.values()) {
                    queued += v;
                }
                q.append("; kernel send queue ").append(Units.size(queued));
            }
        }
        Map<String, Long> ignored = ignoredIn(e, s);
        long total = 0;
        for (long v : ignored.values()) {
            total += v;
        }
        q.append("; ").append(total == 0 ? "no" : Long.toString(total)).append(" ignored writes");
        lines.add(q.toString());
        for (Map.Entry<String, Long> site : ignored.entrySet()) {
            lines.add("      " + site.getValue() + " at " + site.getKey());
        }
    }

    /** {@code vertx 150.2 MiB + netty 612.0 KiB}: the largest share first. */
    static String sharesText(Map<String, Long> shares) {
        List<Map.Entry<String, Long>> ordered = new ArrayList<>(shares.entrySet());
        ordered.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Long> e : ordered) {
            b.append(b.length() == 0 ? "" : " + ").append(e.getKey()).append(' ').append(Units.size(e.getValue()));
        }
        return b.toString();
    }

    /** The call sites' ignored writes exported while {@code e}'s download was the current one. */
    private Map<String, Long> ignoredIn(Endpoint e, AgentTelemetry.Snapshot s) {
        Map<String, Long> end = e.ignoredAtEnd != null ? e.ignoredAtEnd : s.ignoredWrites;
        Map<String, Long> out = new TreeMap<>();
        for (Map.Entry<String, Long> x : end.entrySet()) {
            long d = x.getValue() - e.ignoredBaseline.getOrDefault(x.getKey(), 0L);
            if (d > 0) {
                out.put(x.getKey(), d);
            }
        }
        return out;
    }

    private static void layerLines(AgentTelemetry.Snapshot s, List<String> lines) {
        if (s.metricBatches == 0) {
            return;
        }
        for (String layer : s.pending.keySet()) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-19s ", layer));
            b.append("pending ").append(Units.size(s.pending.get(layer)));
            // Netty's buffers are direct memory; the servlet containers' (Tomcat's by default) are on the heap, and
            // so are the socket layer's: the application's byte arrays of the blocked write calls
            String kind = "netty".equals(layer) || "http2".equals(layer) ? "direct" : "heap";
            Long limit = s.memoryLimit.get(kind);
            if (limit != null && limit > 0) {
                b.append(" of ").append(Units.size(limit)).append(' ').append("direct".equals(kind) ? "direct memory"
                        : "heap");
            }
            Long ignoredBytes = s.ignoredBytes.get(layer);
            if (ignoredBytes != null && ignoredBytes > 0) {
                b.append("; ").append(Units.size(ignoredBytes)).append(" written after stop");
            }
            lines.add(b.toString());
            lines.add("    blocked " + s.blocked.getOrDefault(layer, 0L) + ", oldest wait "
                    + Units.seconds(Math.round(s.oldestWait.getOrDefault(layer, 0.0) * 1e9)) + ", stalls "
                    + s.stalls.getOrDefault(layer, 0L));
            lines.add("    drain wait " + quantiles(s.drainWait.get(layer)));
        }
        StringBuilder dropped = new StringBuilder();
        for (Map.Entry<String, Long> e : s.dropped.entrySet()) {
            if (e.getValue() > 0) {
                dropped.append(dropped.length() == 0 ? "" : ", ").append(e.getValue()).append(' ').append(e.getKey());
            }
        }
        if (dropped.length() > 0) {
            lines.add("    the agent dropped (caps reached): " + dropped);
        }
    }

    static String quantiles(DrainWaitHistogram h) {
        if (h == null || h.count == 0) {
            return "p50 -, p90 -, p99 - (no wait has ended yet)";
        }
        return "p50 " + duration(h.quantile(0.5)) + ", p90 " + duration(h.quantile(0.9)) + ", p99 "
                + duration(h.quantile(0.99)) + " (" + h.count + " ended wait" + (h.count == 1 ? "" : "s") + ")";
    }

    static String duration(double seconds) {
        if (Double.isNaN(seconds)) {
            return "-";
        }
        if (seconds < 1) {
            return String.format(Locale.ROOT, "%.0f ms", seconds * 1000);
        }
        return String.format(Locale.ROOT, "%.2f s", seconds);
    }

    private void alertLine(List<String> lines) {
        PrometheusAlerts a = alerts;
        if (a == null) {
            return;
        }
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-19s ", "alerts"));
        if (!a.answered()) {
            b.append("(asking ").append(a.base()).append(')');
        } else if (a.states().isEmpty()) {
            b.append("none pending or firing");
        } else {
            String sep = "";
            for (Map.Entry<String, String> e : a.states().entrySet()) {
                b.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                sep = ", ";
            }
        }
        b.append("  (").append(a.base()).append("/alerts)");
        lines.add(b.toString());
    }

    static String spanLine(AgentTelemetry.SpanSummary s, String endpoint) {
        StringBuilder b = new StringBuilder("[span] ").append(s.name);
        if (s.peerPort >= 0) {
            b.append(' ').append(endpoint != null ? endpoint + " (peer port " + s.peerPort + ")"
                    : "peer port " + s.peerPort);
        }
        b.append(": ").append(Units.seconds(s.durationNanos));
        if (s.peakPendingBytes >= 0) {
            b.append(", peak ").append(Units.size(s.peakPendingBytes)).append(" pending");
        }
        b.append(", ").append(s.ignoredWrites).append(" ignored writes");
        if (s.function != null) {
            b.append(" at ").append(s.function);
        }
        if (!Double.isNaN(s.drainWaitSeconds)) {
            b.append(", waited ").append(duration(s.drainWaitSeconds));
        }
        if (s.error) {
            b.append(", status ERROR");
            if (s.pendingAtEnd >= 0) {
                b.append(" (closed with ").append(Units.size(s.pendingAtEnd)).append(" pending)");
            } else if (!s.statusMessage.isEmpty()) {
                b.append(" (").append(s.statusMessage).append(')');
            }
        } else {
            b.append(", status OK");
        }
        return b.toString();
    }

    /** The terminal's width from {@code stty size} on /dev/tty, else {@code COLUMNS}, else 100. */
    private static int terminalWidth() {
        try {
            Process p = new ProcessBuilder("stty", "size").redirectInput(new File("/dev/tty"))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String answer;
            try (InputStream in = p.getInputStream()) {
                answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
            }
            if (p.waitFor(2, TimeUnit.SECONDS) && p.exitValue() == 0) {
                String[] parts = answer.split("\\s+");
                if (parts.length == 2) {
                    int cols = Integer.parseInt(parts[1]);
                    if (cols > 20) {
                        return cols;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no stty, no tty: fall back
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            int cols = Integer.parseInt(String.valueOf(System.getenv("COLUMNS")).trim());
            if (cols > 20) {
                return cols;
            }
        } catch (NumberFormatException e) {
            // not set
        }
        return 100;
    }

    /**
     * Which endpoint a connection the agent reports belongs to: the slow client's local port for a download equals
     * the {@code network.peer.port} the agent sees on the server side. Thread-safe.
     */
    static final class EndpointMap {
        private final Map<Long, String> byPort = new HashMap<>();

        synchronized void assign(long port, String endpoint) {
            byPort.put(port, endpoint);
        }

        /** The endpoint whose download used {@code peerPort}, or null for a connection that is not the demo's. */
        synchronized String endpointOf(long peerPort) {
            return byPort.get(peerPort);
        }

        synchronized List<Long> portsOf(String endpoint) {
            List<Long> ports = new ArrayList<>();
            for (Map.Entry<Long, String> e : byPort.entrySet()) {
                if (e.getValue().equals(endpoint)) {
                    ports.add(e.getKey());
                }
            }
            Collections.sort(ports);
            return ports;
        }

        /** Peer port → bytes for the connections of {@code endpoint} among {@code byPeerPort}. */
        synchronized Map<Long, Long> pendingOf(String endpoint, Map<Long, Long> byPeerPort) {
            Map<Long, Long> out = new TreeMap<>();
            for (Map.Entry<Long, Long> e : byPeerPort.entrySet()) {
                if (endpoint.equals(byPort.get(e.getKey()))) {
                    out.put(e.getKey(), e.getValue());
                }
            }
            return out;
        }
    }
}

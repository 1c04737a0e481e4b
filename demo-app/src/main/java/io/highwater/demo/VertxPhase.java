package io.highwater.demo;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The phone downloads from the service's Vert.x 5 endpoints ({@link VertxExport}): first the export that respects
 * {@code writeQueueFull()} and resumes in its drain handler, then the one that never asks. The ignoring one piles its
 * rows up in Vert.x's own queue, on the heap, above Netty: the agent shows that queue as the connection's vertx share
 * beside Netty's, and names the method. Its pile is capped ({@code --vertx-bytes}, by default 5/8 of the heap), so the
 * phase ends before the heap does.
 */
final class VertxPhase extends Phase {
    private static final Pattern IGNORING_END = Pattern.compile("^" + Pattern.quote(VertxExport.IGNORING_END)
            + " (.*)$");

    private long seconds;
    private long cap;
    private long rowRate;
    private int from = -1;
    private SlowClient.Result respecting;
    private SlowClient.Result ignoring;

    @Override
    void declare(OptionList options) {
        options.valued("vertx-seconds", "D", "length of each Vert.x download in phase " + number + " (default 10s, 6s with --quick)")
                .valued("vertx-bytes", "SIZE", "what /vertx/ignoring writes, so at most what piles up in Vert.x's"
                        + " queue (default", "5/8 of --xmx: the phase ends before the heap does)")
                .flag("no-vertx", "skip phase " + number + " (the Vert.x 5 endpoints)");
    }

    @Override
    boolean configure(Args args, ScenarioOptions options) {
        seconds = args.nanos("vertx-seconds", options.quick ? "6s" : "10s");
        cap = args.has("vertx-bytes") ? args.size("vertx-bytes", "0") : defaultCap(Units.parseSize(options.xmx));
        rowRate = ignoringRate(cap, seconds);
        return !args.has("no-vertx");
    }

    /** 5/8 of the heap: a pile of hundreds of MB on a 256 MiB heap, with room for the rest of the service. */
    static long defaultCap(long xmx) {
        return xmx / 8 * 5;
    }

    /**
     * The pile reaches its cap a third of the way through the download, rounded to whole MiB/s: the rest of the phase
     * shows it holding (and the agent's share is held against the service's count while it only drains).
     */
    static long ignoringRate(long cap, long phaseNanos) {
        double third = Math.max(0.5, phaseNanos / 3e9);
        return Math.max(1, Math.round(cap / third / (1 << 20))) << 20;
    }

    @Override
    List<String> serveArgs(boolean selected) {
        return Arrays.asList("--vertx-port", selected ? "0" : "-1");
    }

    @Override
    void play(Stage stage) {
        Integer port = stage.service.port(ReportingService.VERTX_LISTENING);
        if (port == null) {
            stage.say("scenario: the service did not print " + ReportingService.VERTX_LISTENING.trim() + ": phase "
                    + number + " skipped");
            return;
        }
        stage.say("");
        stage.say("phase " + number + " (" + Units.seconds(seconds) + " each): the same phone downloads from Vert.x 5"
                + " endpoints of the service (port " + port + "); Vert.x keeps its own queue of writes per connection,"
                + " in front of Netty.");
        from = stage.service.mark();
        stage.say("  /vertx/respecting writes while writeQueueFull() is false and resumes in drainHandler: Vert.x's"
                + " queue holds at most 16 rows, no ignored writes.");
        respecting = stage.download(port, "/vertx/respecting", seconds);
        stage.awaitMetrics();
        stage.say("  /vertx/ignoring writes " + Units.rate(rowRate) + " of rows and never asks writeQueueFull(), up to "
                + Units.size(cap) + ": the rows pile up in Vert.x's queue, on the heap, while Netty holds about its"
                + " high-water mark" + (stage.hasView() ? " — watch the connection's vertx share beside netty's, the"
                + " vertx layer against the heap, and the ignored writes (write_queue_full) named "
                + VertxExport.class.getName() + ".writeRowsIgnoringBackpressure." : "."));
        ignoring = stage.download(port, "/vertx/ignoring", cap, "&rate=" + Units.sizeArgument(rowRate), seconds,
                () -> false, 0);
        // the phone hung up: Vert.x closes the connection, drops its queue, and the episode's span follows
        stage.service.await(from, IGNORING_END, TimeUnit.SECONDS.toNanos(3));
        stage.awaitAgent(ignoring.localPort);
    }

    /** The largest of the service's own counts (bytes handed to Vert.x, not written yet) since the phase began. */
    static long[] peakTruth(List<String> lines) {
        long[] peak = {-1, -1};
        for (String l : lines) {
            Matcher m = VertxExport.TRUTH_LINE.matcher(l);
            if (m.find() && Long.parseLong(m.group(1)) > peak[0]) {
                peak[0] = Long.parseLong(m.group(1));
                peak[1] = Long.parseLong(m.group(2));
            }
        }
        return peak;
    }

    @Override
    void summarize(Stage stage) {
        if (ignoring == null) {
            return;
        }
        ServiceProcess.Seen end = stage.service.find(from, IGNORING_END);
        long[] truth = peakTruth(stage.service.linesSince(from));
        stage.say("  phase " + number + ", Vert.x 5: /vertx/respecting read " + Units.size(respecting.bodyBytes)
                + ", /vertx/ignoring " + Units.size(ignoring.bodyBytes) + (truth[0] >= 0 ? "; the service's own count"
                + " of bytes handed to Vert.x and not written yet reached " + Units.size(truth[0]) + " (Netty's"
                + " outbound buffer " + Units.size(truth[1]) + " of it)" : "") + (end != null ? "; the export ended "
                + end.group(1) : ""));
    }

    @Override
    void summarizeAgent(Stage stage, AgentTelemetry.Snapshot telemetry) {
        if (ignoring == null) {
            return;
        }
        stage.say("    /vertx/respecting: peak pending " + stage.peakPending(telemetry, respecting)
                + "; /vertx/ignoring: peak pending " + stage.peakPending(telemetry, ignoring)
                + sharePeaks(telemetry, ignoring));
    }

    /** {@code , of which vertx up to X, netty up to Y} for the connection of {@code r}, when exported. */
    private static String sharePeaks(AgentTelemetry.Snapshot s, SlowClient.Result r) {
        Map<String, Long> peaks = r.localPort < 0 ? null : s.connectionSharePeak.get((long) r.localPort);
        if (peaks == null || peaks.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder(" (shares at their peak:");
        String sep = " ";
        for (Map.Entry<String, Long> e : peaks.entrySet()) {
            b.append(sep).append(e.getKey()).append(" up to ").append(Units.size(e.getValue()));
            sep = ", ";
        }
        return b.append(')').toString();
    }
}

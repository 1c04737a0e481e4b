package io.highwater.demo;

import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The phone downloads from {@code /export/ignoring} ({@link NettyExport#writeRowsIgnoringBackpressure}): pending bytes
 * climb until direct memory runs out and Netty fails the download, the agent names the method that ignored the signal,
 * and the service survives to answer {@code /health}.
 */
final class NettyIgnoringPhase extends Phase {
    private static final Pattern ENDED = NettyDownload.endedLine(false);
    private static final Pattern FAILURE = Pattern.compile(Pattern.quote(ReportingService.FAILURE_MARKER));
    /** The agent's line when its guard ({@code --guard}) closes the download. */
    private static final Pattern GUARDED = Pattern.compile("\\[highwater\\] guard: closed the connection .*");

    private long seconds;
    /** How fast the service generates rows for the phone, bytes per second; 0: as fast as it can. */
    private long rowRate;
    private SlowClient.Result download;
    private ServiceProcess.Seen ended;
    /** When the service reported the failure, from the start of the phase; negative: it did not. */
    private long failureAfterNanos = -1;
    private boolean alive;
    private ServiceProcess.Seen guarded;
    private long startNanos;
    private String health;

    @Override
    void declare(OptionList options) {
        options.valued("ignoring-rate", "SIZE", "how fast /export/ignoring generates rows, per second (default: fast"
                        + " enough to run", "out of direct memory about halfway through phase " + number + "; 0 ="
                        + " unlimited)")
                .valued("ignoring-seconds", "D", "longest length of phase " + number + " (default 30s; it ends earlier"
                        + " on the failure)");
    }

    @Override
    boolean configure(Args args, ScenarioOptions options) {
        seconds = args.nanos("ignoring-seconds", options.quick ? "8s" : "30s");
        rowRate = args.has("ignoring-rate") ? args.size("ignoring-rate", "0")
                : defaultIgnoringRate(options.maxDirectBytes, seconds);
        return true;
    }

    /** Direct memory runs out about halfway through the phase: maximum direct memory / (phase / 2), in MiB/s. */
    static long defaultIgnoringRate(long maxDirectBytes, long phaseNanos) {
        double halfway = Math.max(1, phaseNanos / 2e9);
        long mib = Math.max(1, Math.round(maxDirectBytes / halfway / (1 << 20)));
        return mib << 20;
    }

    @Override
    void play(Stage stage) {
        stage.say("");
        stage.say("phase " + number + " (up to " + Units.seconds(seconds) + "): the same phone downloads from"
                + " /export/ignoring, which loops write() and never asks Channel.isWritable()"
                + (rowRate > 0 ? " (it generates rows at " + Units.rate(rowRate) + ")" : "")
                + " — watch pending bytes climb until the " + Units.size(stage.options.maxDirectBytes)
                + " of direct memory run out" + (stage.options.withAgent ? "; highwater names the code that ignored the"
                + " signal (code.function.name " + NettyExport.class.getName() + ".writeRowsIgnoringBackpressure)."
                : "."));
        int from = stage.service.mark();
        long start = System.nanoTime();
        startNanos = start;
        // once the failure is reported, the phone reads on until the agent has reported it too
        download = stage.download(stage.service.port(ReportingService.LISTENING), "/export/ignoring",
                rowRate > 0 ? "&rate=" + Units.sizeArgument(rowRate) : "", seconds,
                () -> stage.service.find(from, FAILURE) != null || stage.service.find(from, GUARDED) != null,
                stage.reportNanos() + TimeUnit.MILLISECONDS.toNanos(700));
        ended = stage.service.await(from, ENDED, TimeUnit.SECONDS.toNanos(2));
        stage.awaitAgent(download.localPort);
        ServiceProcess.Seen failure = stage.service.find(from, FAILURE);
        failureAfterNanos = failure == null ? -1 : failure.nanos - start;
        guarded = stage.service.find(from, GUARDED);
        alive = stage.service.isAlive();
        if (alive) {
            health = stage.service.health();
            stage.say("GET /health → " + health);
        }
    }

    @Override
    void summarize(Stage stage) {
        stage.say("  phase " + number + ", /export/ignoring:   the phone read " + Units.size(download.bodyBytes)
                + " in " + Units.seconds(download.nanos) + " (" + Units.rate(download.bytesPerSecond()) + ")"
                + (ended != null ? "; the service queued up to " + ended.group(2) + " for it (" + ended.group(1) + ")"
                        : ""));
        if (guarded != null) {
            stage.say("  the agent's guard closed the download " + Units.seconds(guarded.nanos - startNanos)
                    + " into phase " + number + ", before direct memory ran out: " + guarded.line);
        }
        if (failureAfterNanos >= 0) {
            stage.say("  direct-memory failure reported by the service: yes, " + Units.seconds(failureAfterNanos)
                    + " into phase " + number + " — Netty failed the allocation/write, the connection was closed");
        } else if (guarded != null) {
            stage.say("  direct-memory failure reported by the service: no — the guard (--guard) cut the slow phone off"
                    + " with a clean close");
        } else {
            stage.say("  direct-memory failure reported by the service: no (raise --ignoring-seconds or --bytes, or"
                    + " lower --max-direct)");
        }
        stage.say("  the service afterwards: " + (alive ? "still up, /health " + health
                : "GONE (exit code " + stage.service.exitValue() + ")"));
    }

    @Override
    void summarizeAgent(Stage stage, AgentTelemetry.Snapshot telemetry) {
        stage.say("    /export/ignoring: peak pending " + stage.peakPending(telemetry, download));
    }
}

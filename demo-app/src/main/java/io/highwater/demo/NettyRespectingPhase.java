package io.highwater.demo;

import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The phone downloads from {@code /export/respecting} ({@link NettyExport#writeRowsRespectingBackpressure}): pending
 * bytes stay flat near Netty's high-water mark, and there are no ignored writes.
 */
final class NettyRespectingPhase extends Phase {
    private static final Pattern ENDED = NettyDownload.endedLine(true);

    private long seconds;
    private SlowClient.Result download;
    /** What the service said it held at most for the phone, or null. */
    private String peak;

    @Override
    void declare(OptionList options) {
        options.valued("respecting-seconds", "D", "length of phase " + number + " (default 20s)");
    }

    @Override
    boolean configure(Args args, ScenarioOptions options) {
        seconds = args.nanos("respecting-seconds", options.quick ? "5s" : "20s");
        return true;
    }

    @Override
    void play(Stage stage) {
        stage.say("");
        stage.say("phase " + number + " (" + Units.seconds(seconds) + "): a phone at " + Units.rate(stage.options.rate)
                + " downloads the export from /export/respecting, which respects backpressure — watch pending bytes"
                + " stay flat near the high-water mark (64 KiB).");
        int from = stage.service.mark();
        download = stage.download(stage.service.port(ReportingService.LISTENING), "/export/respecting", seconds);
        ServiceProcess.Seen ended = stage.service.await(from, ENDED, TimeUnit.SECONDS.toNanos(3));
        peak = ended == null ? null : ended.group(2);
        if (stage.hasView()) {
            stage.awaitAgent(download.localPort);
        } else {
            // the agent's next console summary, before the next phase crowds it
            Stage.sleep(Math.min(stage.options.consoleNanos, TimeUnit.SECONDS.toNanos(2)));
        }
    }

    @Override
    void summarize(Stage stage) {
        stage.say("  phase " + number + ", /export/respecting: the phone read " + Units.size(download.bodyBytes)
                + " in " + Units.seconds(download.nanos) + " (" + Units.rate(download.bytesPerSecond()) + ")"
                + (peak != null ? "; the service held at most " + peak + " for it" : ""));
    }

    @Override
    void summarizeAgent(Stage stage, AgentTelemetry.Snapshot telemetry) {
        stage.say("    /export/respecting: peak pending " + stage.peakPending(telemetry, download));
    }
}

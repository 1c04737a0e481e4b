package io.highwater.demo;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The phone downloads from {@code /socket/export} ({@link SocketExport}) on the service's plain
 * {@code java.net.ServerSocket}: a thread blocked in {@code write()}, a few KiB pending in the process and several
 * MiB in the kernel's send queue.
 */
final class SocketPhase extends Phase {
    private static final String SERVER = "plain java.net.ServerSocket";
    private static final Pattern ENDED = Pattern.compile("^" + Pattern.quote(SocketExport.ENDED)
            + ".*?: (ended \\(.*)$");

    private long seconds;
    private SlowClient.Result download;
    /** What the service said when the export ended: {@code ended (...) after ...}, or null. */
    private String end;

    @Override
    void declare(OptionList options) {
        options.valued("socket-seconds", "D", "length of the plain-socket download in phase " + number
                        + " (default 10s)")
                .flag("no-socket", "skip phase " + number + " (the plain java.net.ServerSocket endpoint)");
    }

    @Override
    boolean configure(Args args, ScenarioOptions options) {
        seconds = args.nanos("socket-seconds", options.quick ? "3s" : "10s");
        return !args.has("no-socket");
    }

    @Override
    List<String> serveArgs(boolean selected) {
        return Arrays.asList("--socket-port", selected ? "0" : "-1");
    }

    @Override
    void play(Stage stage) {
        Integer port = stage.service.port(ReportingService.SOCKET_LISTENING);
        if (port == null) {
            stage.say("scenario: the service did not print " + ReportingService.SOCKET_LISTENING.trim() + ": phase "
                    + number + " skipped");
            return;
        }
        stage.say("");
        stage.say("phase " + number + " (" + Units.seconds(seconds) + "): the same phone downloads from /socket/export,"
                + " a " + SERVER + " with a thread per connection, port " + port + ".");
        stage.say("  it writes the rows through a BufferedOutputStream and cannot ignore backpressure either: while the"
                + " kernel's send buffer is full, the writing thread blocks in write()" + (stage.hasView() ? " — watch"
                + " the socket layer's blocked connection and drain waits, and the kernel send queue beside the"
                + " process's pending bytes (what is left of the blocked call: at most the "
                + Units.size(SocketExport.BUFFER_SIZE) + " the BufferedOutputStream hands over at a time)." : "."));
        int from = stage.service.mark();
        download = stage.download(port, "/socket/export", seconds);
        // the writing thread learns that the phone is gone at its next write: a moment after the phone closed
        ServiceProcess.Seen ended = stage.service.await(from, ENDED, TimeUnit.SECONDS.toNanos(2));
        end = ended == null ? null : ended.group(1);
        stage.awaitMetrics();
    }

    @Override
    void summarize(Stage stage) {
        if (download == null) {
            return;
        }
        stage.say("  phase " + number + ", " + SERVER + ": /socket/export read " + Units.size(download.bodyBytes)
                + " in " + Units.seconds(download.nanos) + " (" + Units.rate(download.bytesPerSecond()) + ")"
                + (end != null ? "; the service's export " + end : ""));
    }

    @Override
    void summarizeAgent(Stage stage, AgentTelemetry.Snapshot telemetry) {
        if (download == null) {
            return;
        }
        Long kernel = download.localPort < 0 ? null : telemetry.kernelQueuedPeak.get((long) download.localPort);
        stage.say("    /socket/export: peak pending " + stage.peakPending(telemetry, download)
                + "; kernel send queue up to " + (kernel == null ? "not exported" : Units.size(kernel)));
    }
}

package io.highwater.demo;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The phone calls the service's gRPC export ({@link GrpcExport}) as a slow gRPC client: gRPC's own flow control, a
 * 64 KiB window and one row requested every 50 ms (about 320 KiB/s). First the method that waits for
 * {@code onReady}, then the one that calls {@code onNext} in a loop: gRPC holds its backlog in the HTTP/2 flow
 * controller, where Netty's outbound buffer never sees it, and highwater reports it in layer http2 by method.
 */
final class GrpcPhase extends Phase {
    private static final Pattern IGNORING_END = Pattern.compile("^" + Pattern.quote(GrpcExport.IGNORING_END) + "(.*)$");
    private static final long TICK_MS = 50;

    private long seconds;
    private int from;
    private long respecting = -1;
    private long ignoring = -1;

    @Override
    void declare(OptionList options) {
        options.valued("grpc-seconds", "D", "length of each gRPC call in phase " + number + " (default 10s)")
                .flag("no-grpc", "skip phase " + number + " (the gRPC endpoints on grpc-netty-shaded)");
    }

    @Override
    boolean configure(Args args, ScenarioOptions options) {
        seconds = args.nanos("grpc-seconds", options.quick ? "3s" : "10s");
        return !args.has("no-grpc");
    }

    @Override
    List<String> serveArgs(boolean selected) {
        return Arrays.asList("--grpc-port", selected ? "0" : "-1");
    }

    @Override
    void play(Stage stage) {
        Integer port = stage.service.port(ReportingService.GRPC_LISTENING);
        if (port == null) {
            stage.say("scenario: the service did not print " + ReportingService.GRPC_LISTENING.trim() + ": phase "
                    + number + " skipped");
            return;
        }
        stage.say("");
        stage.say("phase " + number + " (" + Units.seconds(seconds) + " each): the phone calls the service's gRPC export"
                + " (grpc-netty-shaded, port " + port + ") and reads one 16 KiB row every " + TICK_MS + " ms.");
        from = stage.service.mark();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
                .flowControlWindow(64 * 1024).build();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "grpc-phone");
            t.setDaemon(true);
            return t;
        });
        try {
            // a call made before the channel is ready would be buffered by gRPC and replayed from its own thread
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (channel.getState(true) != ConnectivityState.READY && System.nanoTime() < deadline) {
                Stage.sleep(TimeUnit.MILLISECONDS.toNanos(10));
            }
            stage.say("  demo.Reports/ExportRespecting sends only while isReady() and resumes in onReady: gRPC holds"
                    + " about its 32 KiB threshold, no ignored writes.");
            respecting = call(channel, timer, "ExportRespecting");
            stage.awaitMetrics();
            stage.say("  demo.Reports/ExportIgnoring calls onNext in a loop: " + Units.size(GrpcExport.IGNORING_ROWS
                    * GrpcExport.ROW) + " queued at once" + (stage.hasView() ? " — watch layer http2: pending bytes"
                    + " by method, and the ignored writes (call_not_ready) named "
                    + GrpcExport.class.getName() + ".writeRowsIgnoringReadiness." : "."));
            ignoring = call(channel, timer, "ExportIgnoring");
            stage.awaitMetrics();
        } finally {
            timer.shutdownNow();
            channel.shutdownNow();
        }
    }

    /** Reads the method's rows slowly for the phase's length, then hangs up; the bytes read. */
    private long call(ManagedChannel channel, ScheduledExecutorService timer, String method) {
        AtomicLong read = new AtomicLong();
        ClientCall<byte[], byte[]> call = channel.newCall(GrpcExport.method(method), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<byte[]>() {
            @Override
            public void onMessage(byte[] message) {
                read.addAndGet(message.length);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
            }
        }, new Metadata());
        call.sendMessage(new byte[0]);
        call.halfClose();
        call.request(1);
        ScheduledFuture<?> reader = timer.scheduleAtFixedRate(() -> call.request(1), TICK_MS,
                TICK_MS, TimeUnit.MILLISECONDS);
        Stage.sleep(seconds);
        reader.cancel(false);
        call.cancel("the phone hangs up", null);
        return read.get();
    }

    @Override
    void summarize(Stage stage) {
        if (ignoring < 0) {
            return;
        }
        ServiceProcess.Seen end = stage.service.find(from, IGNORING_END);
        stage.say("  phase " + number + ", gRPC on grpc-netty-shaded: ExportRespecting read " + Units.size(respecting)
                + ", ExportIgnoring " + Units.size(ignoring) + (end != null ? " (" + end.group(1) + ")" : ""));
    }

    @Override
    void summarizeAgent(Stage stage, AgentTelemetry.Snapshot telemetry) {
        // the view shows layer http2 (pending bytes, ignored writes by call site) as it goes
    }
}

package io.highwater.it;

import io.highwater.it.apps.grpc.GrpcPump;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CALL_NOT_READY;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.HTTP2;
import static io.highwater.it.support.Contract.HTTP2_SPAN;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.RPC_METHOD;
import static io.highwater.it.support.Contract.RPC_SERVICE;
import static io.highwater.it.support.Contract.RPC_SYSTEM;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.SPAN_IGNORED_WRITES;
import static io.highwater.it.support.Contract.STREAM_PENDING_BYTES;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * gRPC's {@code isReady()} told the truth about: a real grpc-java server and a real grpc-java client that reads
 * slowly with gRPC's own flow control (a 64 KiB window, one message requested every 50 ms), on grpc-netty-shaded and
 * on grpc-netty with unshaded Netty 4.2 ({@link GrpcPump}). The ground truth is what gRPC itself says, printed by the
 * application: how many messages it sent while {@code isReady()} was false, and with how many bytes queued before
 * them ({@code numSentBytesQueued}, gRPC's count behind {@code isReady()}).
 */
class GrpcCallNotReadyTest {

    private static final int KIB = 1024;
    private static final int CHUNK = 16 * KIB;
    /** gRPC's default on-ready threshold; the agent's default tolerance is one more threshold. */
    private static final long THRESHOLD = 32 * KIB;
    private static final long BEYOND = 2 * THRESHOLD;

    enum Transport {
        SHADED("io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder"),
        NETTY("io.grpc.netty.NettyServerBuilder");

        final String builder;

        Transport(String builder) {
            this.builder = builder;
        }

        List<Path> classPath() {
            List<Path> cp = new ArrayList<>(ChildJvm.jars(Path.of(ItEnv.property("highwater.it.grpcruntime"))));
            if (this == SHADED) {
                cp.addAll(ChildJvm.jars(Path.of(ItEnv.property("highwater.it.grpcshaded"))));
            } else {
                cp.addAll(ChildJvm.jars(Path.of(ItEnv.property("highwater.it.grpcnetty"))));
                cp.addAll(ChildJvm.jars(ItEnv.netty42Dir()));
            }
            return cp;
        }
    }

    static ChildJvm pump(Transport t, OtlpReceiver receiver, String mode, String... args) {
        ChildJvm child = ChildJvm.builder("grpc-" + mode + "-" + t.name()).classPath(List.of(ItEnv.testClasses()))
                .classPath(t.classPath()).mainClass(GrpcPump.class)
                .jvmArg("-Xmx256m", "-XX:MaxDirectMemorySize=256m",
                        "-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint()))
                .args(mode).args("--chunk", String.valueOf(CHUNK), "--beyond", String.valueOf(BEYOND)).args(args)
                .start();
        assertThat(child.awaitStdoutValue("TRANSPORT")).isEqualTo(t.builder);
        return child;
    }

    /** {@code key=value} pairs of a line the application printed. */
    static Map<String, Long> values(String line) {
        Map<String, Long> out = new HashMap<>();
        for (String pair : line.trim().split(" ")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
            }
        }
        return out;
    }

    /** The last {@code QUEUED} value the application printed (gRPC's own count, every 200 ms). */
    private static long lastQueued(ChildJvm child) {
        List<String> lines = child.stdout();
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("QUEUED ")) {
                return Long.parseLong(lines.get(i).substring(7).trim());
            }
        }
        throw new AssertionError("no QUEUED line:\n" + child.transcript());
    }

    private static Predicate<MetricPoint> notReadyBy(String function) {
        return p -> p.has(LAYER, HTTP2) && p.has(SIGNAL, CALL_NOT_READY) && p.has(FUNCTION, function);
    }

    private static Predicate<MetricPoint> streamOf(String method) {
        return metric(STREAM_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2) && p.has(RPC_SYSTEM, "grpc")
                && p.has(RPC_SERVICE, "test.Pump") && p.has(RPC_METHOD, method));
    }

    /**
     * A server-streaming method calls {@code onNext} in a loop without asking {@code isReady()}: every message it
     * sent while not ready with more than the tolerance queued is one ignored write of its own method (not of gRPC's
     * or the lambda's), none more; the call's pending bytes are gRPC's own count; the connection's total holds it;
     * the episode span names the method. Without the agent's gRPC integration nothing of this shows up: Netty's
     * outbound buffer stays small while the backlog sits in the HTTP/2 flow controller.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void messagesSentWhileNotReadyAreIgnoredWritesOfTheApplicationsMethod(Transport t) {
        String function = GrpcPump.class.getName() + ".streamIgnoring";
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = pump(t, receiver, "server-ignore", "--total", String.valueOf(64L << 20),
                     "--hold", "5000")) {
            Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
            long notReady = truth.get("notReady");
            long beyond = truth.get("beyond");
            assertThat(beyond).as("messages sent with more than %d bytes queued: %s", BEYOND, truth)
                    .isGreaterThan(1000);
            // while the call holds them, the stream gauge shows gRPC's own count for the call, by its method (the
            // reader takes 320 KiB/s of tens of MiB: gRPC's count printed around the same export is close enough)
            int after = receiver.firstBatchCollectedFromNow();
            MetricPoint stream = receiver.awaitPoint("the stream of test.Pump/Stream",
                    streamOf("Stream").and(fromBatch(after)));
            long queued = lastQueued(child);
            assertThat((double) stream.longValue()).as("stream pending vs gRPC's numSentBytesQueued %d", queued)
                    .isBetween(queued * 0.9, queued * 1.1);
            // the connection (its Netty channel) holds the call's bytes in layer http2, beside Netty's own share
            MetricPoint conn = receiver.awaitPoint("the connection's http2 share",
                    metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2)).and(fromBatch(after)));
            assertThat((double) conn.longValue()).isBetween(queued * 0.9, queued * 1.1);

            receiver.awaitFurtherMetricBatches(2);
            long ignored = receiver.counterTotal(IGNORED_WRITES, notReadyBy(function));
            // the application read the call's queue just before the agent did; only the transport's drain in
            // between (on its own thread) can move a message back across the tolerance (once seen: 4,087 of 4,088)
            assertThat(ignored).as("ignored writes of %s; the application saw %s", function, truth)
                    .isBetween(beyond - 16, notReady);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, HTTP2)))
                    .as("http2 ignored writes of any call site").isEqualTo(ignored);
            // gRPC's own writes into the channel are not the application's
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY))).isZero();

            child.awaitStdoutValue("CLOSED");
            ReceivedSpan span = receiver.awaitSpan("the http2 episode of test.Pump/Stream",
                    s -> s.name().equals(HTTP2_SPAN) && s.has(RPC_METHOD, "Stream"));
            assertThat(span.attr(RPC_SERVICE)).isEqualTo("test.Pump");
            assertThat(span.attr(FUNCTION)).isEqualTo(function);
            assertThat(span.longAttr(SPAN_IGNORED_WRITES)).isEqualTo(ignored);
            assertWellFormed(receiver);
        }
    }

    /**
     * The same method written the way gRPC asks ({@code setOnReadyHandler}, {@code isReady()}): no ignored write on
     * any layer, the call's pending bytes never beyond what gRPC itself counted at most (the threshold plus one
     * message), and its waits for {@code onReady} recorded.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void aWriterThatWaitsForOnReadyIgnoresNothing(Transport t) {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = pump(t, receiver, "server-respect", "--total", String.valueOf(4L << 20),
                     "--tick", "10")) {
            Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
            assertThat(child.awaitStdoutValue("CLOSED")).isEqualTo("OK");
            long maxQueued = truth.get("maxQueued");
            assertThat(maxQueued).as("gRPC's own queued bytes at most: %s", truth)
                    .isBetween(THRESHOLD, THRESHOLD + 2L * CHUNK);
            receiver.await("http2 drain waits", () -> receiver.points(DRAIN_WAIT).stream()
                    .anyMatch(p -> p.has(LAYER, HTTP2) && p.longValue() > 0));
            receiver.awaitFurtherMetricBatches(2);
            assertThat(receiver.counterPoints(IGNORED_WRITES))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.points(STREAM_PENDING_BYTES))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isLessThanOrEqualTo(maxQueued));
            assertWellFormed(receiver);
        }
    }

    /**
     * The client side: a client-streaming call whose client sends in a loop without asking {@code isReady()}, into
     * a server that reads slowly. Its messages sent while not ready are ignored writes of the client's method.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void aClientSendingWhileNotReadyIsCaughtWithItsMethod(Transport t) {
        String function = GrpcPump.class.getName() + ".uploadIgnoring";
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = pump(t, receiver, "client-ignore", "--total", String.valueOf(32L << 20),
                     "--hold", "2000")) {
            Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
            long notReady = truth.get("notReady");
            // all but the few sent while the queue was below the threshold plus the tolerance (the client's queued
            // bytes are not printed: its call wraps the transport stream in retry and delayed streams)
            long slack = BEYOND / CHUNK + 4;
            assertThat(notReady).as("%s", truth).isGreaterThan(1000);
            receiver.awaitFurtherMetricBatches(2);
            long ignored = receiver.counterTotal(IGNORED_WRITES, notReadyBy(function));
            assertThat(ignored).as("ignored writes of %s; the application saw %s", function, truth)
                    .isBetween(notReady - slack, notReady);
            receiver.awaitPoint("the client's call of test.Pump/Upload", streamOf("Upload"));
        }
    }
}

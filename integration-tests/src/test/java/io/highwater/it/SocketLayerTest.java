package io.highwater.it;

import io.highwater.it.apps.socket.SocketExportServer;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import io.opentelemetry.proto.trace.v1.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

import static io.highwater.it.support.Contract.CONNECTIONS_BLOCKED;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_OLDEST_WAIT;
import static io.highwater.it.support.Contract.DRAIN_STALLS;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.KERNEL_QUEUED_BYTES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.PEER_ADDRESS;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.SOCKET;
import static io.highwater.it.support.Contract.SOCKET_FULL;
import static io.highwater.it.support.Contract.SPAN_PENDING_BYTES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The socket layer on the JDK's own sockets in a child JVM with the agent, driven by real slow clients: a
 * {@code ServerSocket} exporter (platform and virtual threads), a {@code com.sun.net.httpserver} exporter, and two
 * non-blocking {@code SocketChannel} writers, one that spins and one that waits on a selector. The accepted sockets
 * get a 64 KiB send buffer, so a paused client fills the kernel quickly and the writer has to wait. Runs on whatever
 * JDK runs the build (CI: 17 and 25).
 */
class SocketLayerTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    enum Kind {
        SOCKET("socket"), SOCKET_VIRTUAL("socket", "--virtual"), SOCKET_TIMED_READ("socket", "--timed-read"),
        HTTPSERVER("httpserver"),
        HTTPSERVER_VIRTUAL("httpserver", "--virtual"),
        NIO_SPIN("nio-spin"), NIO_SELECTOR("nio-selector");

        final String[] args;

        Kind(String kind, String... more) {
            List<String> a = new ArrayList<>(List.of("--kind", kind, "--sndbuf", String.valueOf(64 * KIB)));
            a.addAll(List.of(more));
            this.args = a.toArray(new String[0]);
        }
    }

    /** An exporter of {@code kind} in a child JVM with the agent exporting to {@code receiver}. */
    private static ListeningChild server(Kind kind, OtlpReceiver receiver, String... agentSettings) {
        return ListeningChild.start(ChildJvm.builder("socket-" + kind.name()).classPath(List.of(ItEnv.testClasses()))
                .mainClass(SocketExportServer.class).args(kind.args)
                .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint(),
                        agentSettings)));
    }

    private static List<MetricPoint> socketPoints(OtlpReceiver receiver, String metric) {
        return receiver.points(metric).stream().filter(p -> p.has(LAYER, SOCKET)).toList();
    }

    private static long drainWaits(OtlpReceiver receiver) {
        return socketPoints(receiver, DRAIN_WAIT).stream().mapToLong(MetricPoint::longValue).max().orElse(0);
    }

    private static long ignoredWrites(OtlpReceiver receiver) {
        return receiver.counterPoints(IGNORED_WRITES).stream().filter(p -> p.has(LAYER, SOCKET))
                .mapToLong(MetricPoint::longValue).max().orElse(0);
    }

    private static boolean ofClient(MetricPoint p, SlowClient client, int serverPort) {
        return p.has(LAYER, SOCKET) && p.has(PEER_ADDRESS, "127.0.0.1") && p.has(PEER_PORT, (long) client.localPort())
                && p.has(SERVER_PORT, (long) serverPort);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Kind.class,
            names = {"SOCKET", "SOCKET_VIRTUAL", "SOCKET_TIMED_READ", "HTTPSERVER", "HTTPSERVER_VIRTUAL"})
    void blockedWritersAreBlockedConnectionsWithTheKernelQueueBesideThem(Kind kind) {
        assumeTrue(!kind.name().endsWith("_VIRTUAL") || Runtime.version().feature() >= 21, "virtual threads: JDK 21+");
        int clients = 3;
        long total = 8L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = server(kind, receiver, "stall.threshold=2s")) {
            List<SlowClient> slow = new ArrayList<>();
            try {
                for (int i = 0; i < clients; i++) {
                    slow.add(SlowClient.builder(server.port, "/export?bytes=" + total + "&chunk=" + 16 * KIB)
                            .bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect());
                }
                slow.forEach(SlowClient::awaitPaused);
                receiver.awaitPoint(clients + " socket connections blocked", metric(CONNECTIONS_BLOCKED)
                        .and(p -> p.has(LAYER, SOCKET)).and(above(clients - 0.5)));
                SlowClient first = slow.get(0);
                MetricPoint pending = receiver.awaitPoint("the blocked call's bytes pending for the first client",
                        metric(CONNECTION_PENDING_BYTES).and(p -> ofClient(p, first, server.port)).and(above(0)));
                // what is left of one blocked call: the exporters hand the socket at most one 16 KiB chunk at a time
                assertThat(pending.doubleValue()).as("pending bytes of %s", pending).isLessThanOrEqualTo(16 * KIB);
                receiver.awaitPoint("the kernel's send queue of the first client",
                        metric(KERNEL_QUEUED_BYTES).and(p -> ofClient(p, first, server.port)).and(above(16 * KIB)));
                // nothing drains while the clients are paused: each blocked write is a stall
                receiver.awaitPoint("stalls of the paused clients", metric(DRAIN_STALLS)
                        .and(p -> p.has(LAYER, SOCKET)).and(above(clients - 0.5)));
                slow.forEach(SlowClient::resume);
                for (SlowClient c : slow) {
                    c.awaitComplete();
                    assertThat(c.bodyBytesRead()).isEqualTo(total);
                }
            } finally {
                slow.forEach(SlowClient::close);
            }
            receiver.awaitPoint("every socket connection drained", metric(CONNECTIONS_BLOCKED)
                    .and(p -> p.has(LAYER, SOCKET)).and(p -> p.doubleValue() == 0));
            receiver.awaitFurtherMetricBatches(2);
            assertWellFormed(receiver);
            assertThat(drainWaits(receiver)).as("socket drain waits").isGreaterThanOrEqualTo(clients);
            assertThat(ignoredWrites(receiver)).as("a blocking write cannot ignore the signal").isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Kind.class, names = {"SOCKET", "HTTPSERVER"})
    void aFastClientCausesNoStalls(Kind kind) {
        long total = 64L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = server(kind, receiver, "stall.threshold=2s");
             SlowClient client = SlowClient.builder(server.port, "/export?bytes=" + total + "&chunk=" + 16 * KIB)
                     .fullSpeed().receiveBuffer(0).readSize(64 * KIB).connect()) {
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            receiver.awaitFurtherMetricBatches(2);
            assertWellFormed(receiver);
            assertThat(socketPoints(receiver, DRAIN_STALLS)).as("socket stalls").isNotEmpty()
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(ignoredWrites(receiver)).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Kind.class, names = {"SOCKET", "HTTPSERVER"})
    void aClientThatGoesAwayMidWriteEndsTheEpisodeInError(Kind kind) {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = server(kind, receiver, "otel.bsp.schedule.delay=100ms");
             SlowClient client = SlowClient.builder(server.port, "/export?bytes=" + 8 * MIB + "&chunk=" + 16 * KIB)
                     .bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            client.awaitPaused();
            receiver.awaitPoint("the paused client's connection blocked", metric(CONNECTION_PENDING_BYTES)
                    .and(p -> ofClient(p, client, server.port)).and(above(0)));
            // longer than the span threshold (500 ms), so that the episode becomes a span
            receiver.awaitPoint("a socket wait running for a second", metric(DRAIN_OLDEST_WAIT)
                    .and(p -> p.has(LAYER, SOCKET)).and(above(1.0)));
            client.abort();
            ReceivedSpan span = receiver.awaitSpan("the socket episode span of port " + client.localPort(),
                    s -> s.isConnectionOf(client));
            assertThat(span.name()).isEqualTo("backpressure socket");
            assertThat(span.statusCode()).as("status of %s", span).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(span.longAttr(SPAN_PENDING_BYTES)).as("bytes of the write that was cut off").isPositive();
        }
    }

    @Test
    void aNonBlockingWriterThatSpinsIgnoresTheSignalAndIsNamed() {
        long total = 4L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(Kind.NIO_SPIN, receiver);
             SlowClient client = SlowClient.builder(server.port, "/export?bytes=" + total + "&chunk=" + 16 * KIB)
                     .bytesPerSecond(2_000_000).connect()) {
            receiver.awaitPoint("ignored socket_full writes from the spinning method", metric(IGNORED_WRITES)
                    .and(p -> p.has(LAYER, SOCKET) && p.has(SIGNAL, SOCKET_FULL)
                            && p.has(FUNCTION, SocketExportServer.class.getName() + ".writeSpinning"))
                    .and(above(0)));
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            receiver.awaitFurtherMetricBatches(1);
            assertWellFormed(receiver);
        }
    }

    @Test
    void aNonBlockingWriterThatWaitsOnItsSelectorIgnoresNothingAndWaits() {
        long total = 4L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(Kind.NIO_SELECTOR, receiver);
             SlowClient client = SlowClient.builder(server.port, "/export?bytes=" + total + "&chunk=" + 16 * KIB)
                     .bytesPerSecond(2_000_000).connect()) {
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            receiver.awaitPoint("socket drain waits of the selector writer", metric(DRAIN_WAIT)
                    .and(p -> p.has(LAYER, SOCKET)).and(p -> p.longValue() > 0));
            receiver.awaitFurtherMetricBatches(2);
            assertWellFormed(receiver);
            assertThat(ignoredWrites(receiver)).as("writes made only when the selector said writable").isZero();
        }
    }
}

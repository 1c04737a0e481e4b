package io.highwater.it;

import io.highwater.it.ServletContainerTest.Container;
import io.highwater.it.support.Fidelity;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static io.highwater.it.ServletContainerTest.assertNoIgnoredWrites;
import static io.highwater.it.ServletContainerTest.pendingOf;
import static io.highwater.it.ServletContainerTest.server;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.KERNEL_QUEUED_BYTES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.OUTPUT_NOT_READY;
import static io.highwater.it.support.Contract.PEER_ADDRESS;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SERVLET;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.SPAN_IGNORED_WRITES;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The servlet layer telling the truth in the shapes production has: writes the container refuses although the
 * application never asked {@code isReady()}, the bytes of async writes in flight, and the unsent part of one large
 * blocking write. Real containers in child JVMs with the agent, real slow clients; the ground truth is what the
 * application itself saw (the container's refusals it caught, the bytes the container accepted) and what the client
 * and the kernel hold.
 *
 * <p>The byte accounting of a paused client's connection: every body byte the container accepted is either read by
 * the client, in the client's kernel receive queue, in the server's kernel send queue
 * ({@code backpressure.kernel.queued.bytes}), or held by the process. So the process's share, the connection's
 * {@code backpressure.connection.pending.bytes}, lies between {@code accepted - read - kernel - receiveQueue} and
 * {@code accepted - read - kernel}. The receive queue holds less than twice the receive buffer the client asked for:
 * Linux doubles {@code SO_RCVBUF} for its bookkeeping (socket(7)) and lets the queue use that, while the JDK reports
 * the value asked for (it halves what Linux returns). Once the client has paused and the stream has settled (nothing drains, nothing
 * more is written), both gauges are constant, so they may be taken from one export.
 *
 * <p>Its cases run concurrently with each other (each has its own receiver, container JVM and clients, on ephemeral
 * ports), in the three slots all test classes share (junit-platform.properties).
 */
@Execution(ExecutionMode.CONCURRENT)
class ServletReadinessTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    /** {@code key=value} pairs of a line the application printed. */
    private static Map<String, Long> values(String line) {
        Map<String, Long> out = new HashMap<>();
        for (String pair : line.trim().split(" ")) {
            int eq = pair.indexOf('=');
            out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return out;
    }

    private static Predicate<MetricPoint> ignoredBy(String function) {
        return p -> p.has(LAYER, SERVLET) && p.has(SIGNAL, OUTPUT_NOT_READY) && p.has(FUNCTION, function);
    }

    private static Predicate<MetricPoint> kernelOf(SlowClient client, int serverPort) {
        return metric(KERNEL_QUEUED_BYTES).and(p -> p.has(PEER_ADDRESS, "127.0.0.1")
                && p.has(PEER_PORT, (long) client.localPort()) && p.has(SERVER_PORT, (long) serverPort));
    }

    /**
     * The connection's pending bytes and the kernel's send queue from one export taken after {@code settledBatch},
     * checked against the accounting in the class comment.
     */
    private static long assertAccounted(OtlpReceiver receiver, SlowClient client, int serverPort, long accepted,
                                        int settledBatch) {
        MetricPoint pending = receiver.awaitPoint("bytes held for the paused connection of " + client,
                pendingOf(client, serverPort).and(fromBatch(settledBatch)));
        MetricPoint kernel = receiver.awaitPoint("the kernel's send queue of " + client + " in batch "
                + pending.batch(), kernelOf(client, serverPort).and(p -> p.batch() == pending.batch()));
        long read = client.bodyBytesRead();
        long outside = accepted - read - kernel.longValue();
        long receiveQueue = 2L * client.receiveBufferSize();
        assertThat(pending.longValue()).as("pending bytes of %s: accepted %d, read %d, kernel %d, receive buffer %d",
                        client, accepted, read, kernel.longValue(), client.receiveBufferSize())
                .isLessThanOrEqualTo(outside)
                .isGreaterThanOrEqualTo(outside - receiveQueue);
        return pending.longValue();
    }

    /**
     * The application never asks {@code isReady()} and writes every 5 ms from a thread of its own; the container
     * refuses most writes. Each refusal is one ignored write of the application's method, counted before the
     * exception reached the application, none else (the writes the container accepted are not ignored, nor are
     * they counted twice), and the ignored bytes are the refused writes' bytes. Where the container holds the
     * accepted bytes it could not send (Tomcat: the socket's buffers; Undertow: the stream's buffers to write), they
     * are the connection's pending bytes; Jetty accepts only the first write (its stream is ready once, after
     * {@code setWriteListener}; every later write finds {@code isReady()} not called), which the socket takes
     * whole. The episode of the connection ends as a span with exactly the refused writes. The same for
     * {@code write(ByteBuffer)} (Servlet 6.1 on Tomcat 11, the containers' own method on the others; Undertow's hands
     * its buffer to {@code write(ByteBuffer[])}, which the agent leaves alone, so nothing counts twice).
     */
    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("containersAndWriteMethods")
    void writesTheContainerRefusesAreIgnoredWritesOfTheApplicationsMethod(Container container, String write) {
        String function = container.appPackage + ".ExportServlets.writeRowsWithoutAskingReadiness";
        int chunk = 16 * KIB;
        boolean buffers = write.equals("write(ByteBuffer)");
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(container, receiver);
             SlowClient client = SlowClient.builder(server.port,
                             "/unasked?writes=300&interval=5&chunk=" + chunk + "&buffers=" + buffers)
                     .bytesPerSecond(20_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            Map<String, Long> truth = values(server.child.awaitStdoutValue("UNASKED"));
            long refused = truth.get("refused");
            assertThat(truth.get("other")).as("writes that threw something else: %s", truth).isZero();
            assertThat(truth.get("failed")).as("writes that failed (the client went away): %s", truth).isZero();
            assertThat(refused).as("writes the container refused: %s", truth).isPositive();
            assertThat(truth.get("accepted")).as("writes the container accepted: %s", truth).isPositive();

            receiver.awaitFurtherMetricBatches(2);
            Fidelity.record(container + " async " + write + " without isReady()",
                    "writes the container refused (the application's count)", refused,
                    "ignored writes with the application's method",
                    receiver.counterTotal(IGNORED_WRITES, ignoredBy(function)));
            assertThat(receiver.counterTotal(IGNORED_WRITES, ignoredBy(function)))
                    .as("ignored writes of %s; the application saw %s", function, truth).isEqualTo(refused);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, SERVLET)))
                    .as("ignored servlet writes of any call site").isEqualTo(refused);
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> p.has(LAYER, SERVLET) && p.has(SIGNAL, OUTPUT_NOT_READY)))
                    .as("ignored servlet bytes").isEqualTo(refused * chunk);

            List<MetricPoint> pending = receiver.points().stream().filter(pendingOf(client, server.port)).toList();
            if (container != Container.JETTY_12) {
                assertThat(pending).as("bytes the container held for %s", client).isNotEmpty();
            }
            // the client paused before the container held anything, and the container held only accepted bytes
            long bound = truth.get("acceptedBytes") - client.bodyBytesRead();
            assertThat(pending).allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isLessThanOrEqualTo(bound));

            ReceivedSpan span = receiver.awaitSpan("the servlet episode of port " + client.localPort(),
                    sp -> sp.name().equals("backpressure servlet") && sp.isConnectionOf(client));
            assertThat(span.longAttr(SPAN_IGNORED_WRITES)).isEqualTo(refused);
            assertThat(span.attr(FUNCTION)).isEqualTo(function);
            assertWellFormed(receiver);
        }
    }

    /**
     * The containers whose write refusals and in-flight bytes are checked in detail: the newest of each line and
     * Tomcat 9 (javax). The rest of the version matrix runs ServletContainerTest only, to keep the IT time low.
     */
    private static final List<Container> DETAILED = List.of(Container.TOMCAT_11, Container.TOMCAT_9,
            Container.JETTY_12, Container.UNDERTOW_2_3);

    static Stream<Arguments> containersAndWriteMethods() {
        return DETAILED.stream().flatMap(c -> Stream.of(Arguments.of(c, "write(byte[], int, int)"),
                Arguments.of(c, "write(ByteBuffer)")));
    }

    static Stream<Arguments> containersAndWriteSizes() {
        return DETAILED.stream().flatMap(c -> Stream.of(Arguments.of(c, 16 * KIB), Arguments.of(c, 256 * KIB)));
    }

    /**
     * An async writer honouring {@code isReady()}, its client paused: the write the container could not finish is in
     * flight, and its bytes are the connection's pending bytes, on every container (Jetty: the buffers its
     * connection's write flusher holds and, for a write larger than the stream's buffer, the part not sliced off
     * yet). They account for every accepted byte the client and the kernels do not hold. The writer ignored
     * nothing.
     */
    @ParameterizedTest(name = "{0}, {1} B writes")
    @MethodSource("containersAndWriteSizes")
    void asyncBytesInFlightArePendingBytesOfTheirConnection(Container container, int chunk) {
        long total = 32L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(container, receiver);
             SlowClient client = SlowClient.builder(server.port, "/respecting?bytes=" + total + "&chunk=" + chunk)
                     .bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            client.awaitPaused();
            // two exports later the stream has gone not ready for the last time: nothing drains while paused
            receiver.awaitFurtherMetricBatches(2);
            int settled = receiver.metricBatchCount();
            receiver.awaitFurtherMetricBatches(1);
            List<String> notReady = server.child.stdout().stream()
                    .filter(l -> l.startsWith("RESPECTING-NOT-READY ")).toList();
            assertThat(notReady).as("the writer found the stream not ready").isNotEmpty();
            long accepted = values(notReady.get(notReady.size() - 1).substring("RESPECTING-NOT-READY ".length()))
                    .get("written");
            long pending = assertAccounted(receiver, client, server.port, accepted, settled);
            assertThat(pending).as("bytes of the async write in flight").isPositive();

            client.resume();
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            receiver.awaitFurtherMetricBatches(2);
            assertWellFormed(receiver);
            assertNoIgnoredWrites(receiver);
        }
    }

    /**
     * Tomcat, one blocking write of an 8 MiB array to a paused client: Tomcat passes the array down in slices of its
     * response buffer without copying, and the thread waits for the socket. The connection's pending bytes are the
     * socket's write buffer and the part of the array not taken yet: every byte the client and the kernels do not
     * hold. Nothing is ignored: a blocking writer waits.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Container.class, names = {"TOMCAT_11", "TOMCAT_9"})
    void aBlockingWriteOfOneLargeArrayHoldsItsUnsentPartAsPendingBytes(Container container) {
        long total = 8L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(container, receiver);
             SlowClient client = SlowClient.builder(server.port, "/large?bytes=" + total)
                     .bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            client.awaitPaused();
            receiver.awaitFurtherMetricBatches(2);
            int settled = receiver.metricBatchCount();
            long pending = assertAccounted(receiver, client, server.port, total, settled);
            assertThat(pending).as("the unsent part of the array").isGreaterThan(total / 2);

            client.resume();
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            assertThat(server.child.awaitStdoutValue("LARGE")).isEqualTo("wrote=" + total);
            receiver.awaitFurtherMetricBatches(2);
            assertWellFormed(receiver);
            assertNoIgnoredWrites(receiver);
        }
    }
}

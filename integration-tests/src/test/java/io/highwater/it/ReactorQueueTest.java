package io.highwater.it;

import io.highwater.it.apps.reactor.ReactorExport;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DEMAND_EXHAUSTED;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PEER_ADDRESS;
import static io.highwater.it.support.Contract.PENDING_ITEMS;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Contract.REACTOR;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reactor layer on a real Reactor Netty 1.2.16 server (reactor-core 3.7.17, Netty 4.1) in a child JVM with the
 * agent, behind a real slow client. Ground truth: the producer's own count of rows (and of the rows a bounded sink
 * refused), and Reactor's own count of what its queue holds ({@code Scannable} {@code BUFFERED}).
 */
class ReactorQueueTest {

    private static final long MIB = 1024 * 1024;
    private static final String APP = ReactorExport.class.getName();

    static ListeningChild server(OtlpReceiver receiver, String... args) {
        return ListeningChild.start(ChildJvm.builder("reactor-netty").classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.reactornetty"))))
                .mainClass(APP).args(args)
                .jvmArg("-Xmx768m")
                .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint())));
    }

    static Map<String, Long> values(String line) {
        Map<String, Long> out = new HashMap<>();
        for (String pair : line.trim().split(" ")) {
            int eq = pair.indexOf('=');
            out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return out;
    }

    static long latestBuffered(ListeningChild server) {
        List<String> lines = server.child.stdout().stream().filter(l -> l.startsWith("TRUTH ")).toList();
        assertThat(lines).as("Reactor's own count of the queue").isNotEmpty();
        return values(lines.get(lines.size() - 1).substring(6)).get("buffered");
    }

    private static Predicate<MetricPoint> share(String layer, SlowClient client, int serverPort) {
        return metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, layer) && p.has(PEER_ADDRESS, "127.0.0.1")
                && p.has(PEER_PORT, (long) client.localPort()) && p.has(SERVER_PORT, (long) serverPort));
    }

    /**
     * A producer that loops {@code sink.next(row)} ({@code Flux.create}), {@code tryEmitNext(row)} (a unicast sink, an
     * unbounded multicast sink) or {@code sink.next(row)} into the unbounded {@code onBackpressureBuffer()} operator
     * without looking at the demand: Reactor Netty keeps only a prefetch window in flight, Netty stays calm, and the
     * rows pile up in the sink's (the operator's) queue. The connection's reactor share is that queue in bytes (rows of 64 ASCII
     * characters), against Reactor's own count of it; the emissions made with the queue beyond tolerance are ignored
     * writes of the producer's method; Netty's layer judges nothing Reactor Netty's bounded send hands on.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"create", "unicast", "multicast-unbounded", "buffer"})
    void aProducerIgnoringDemandIsCaughtWithItsMethodAndItsPileUp(String route) {
        long rows = 1_500_000;
        String function = APP + switch (route) {
            case "create" -> ".produceIgnoringDemand";
            case "unicast" -> ".emitUnicast";
            case "multicast-unbounded" -> ".emitMulticastUnbounded";
            default -> ".produceIntoBuffer";
        };
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver);
             SlowClient client = SlowClient.builder(server.port, "/" + route + "?rows=" + rows)
                     .bytesPerSecond(200_000).connect()) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("DONE"));
            assertThat(done.get("rows")).isEqualTo(rows);
            int settled = receiver.firstBatchCollectedFromNow();
            MetricPoint held = receiver.awaitPoint("the connection's reactor share beyond 50 MiB",
                    share(REACTOR, client, server.port).and(above(50 * MIB)).and(fromBatch(settled)));
            receiver.awaitFurtherMetricBatches(1);
            long truth = latestBuffered(server) * ReactorExport.ROW;
            // the client drains 200 KB/s: between the export and Reactor's next count, at most a few hundred KB
            assertThat(held.longValue()).as("reactor share against Reactor's own count, %d bytes", truth)
                    .isBetween(truth - MIB, truth + 4 * MIB);

            Predicate<MetricPoint> site = p -> p.has(LAYER, REACTOR) && p.has(SIGNAL, DEMAND_EXHAUSTED)
                    && p.has(FUNCTION, function);
            receiver.awaitPoint("ignored writes of " + function, metric(IGNORED_WRITES).and(site).and(above(0)));
            receiver.awaitFurtherMetricBatches(1);
            long ignored = receiver.counterTotal(IGNORED_WRITES, site);
            assertThat(ignored).as("rows emitted beyond tolerance without demand").isLessThanOrEqualTo(rows)
                    .isGreaterThan(rows / 2);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, REACTOR))).isEqualTo(ignored);
            System.out.printf("FIGURES %s: reactor share %d B (Reactor's count x 64: %d B), ignored writes %d of %d"
                    + " rows%n", route, held.longValue(), truth, ignored, rows);
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> p.has(LAYER, REACTOR)))
                    .isEqualTo(ignored * ReactorExport.ROW);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY)))
                    .as("writes Reactor Netty handed on, judged by the Netty layer").isZero();
            assertWellFormed(receiver);
        }
    }

    /**
     * The same ignoring producer with rows queued as objects (turned into text further down): the queue's elements
     * are not bytes, so they are the reactor layer's {@code backpressure.pending.items}, against Reactor's own count,
     * and the connection shows no reactor bytes.
     */
    @Test
    void aQueueOfObjectsIsCountedInItems() {
        long rows = 1_000_000;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver);
             SlowClient client = SlowClient.builder(server.port, "/objects?rows=" + rows)
                     .bytesPerSecond(200_000).connect()) {
            assertThat(values(server.child.awaitStdoutValue("DONE")).get("rows")).isEqualTo(rows);
            int settled = receiver.firstBatchCollectedFromNow();
            MetricPoint items = receiver.awaitPoint("reactor items beyond 500,000", metric(PENDING_ITEMS)
                    .and(p -> p.has(LAYER, REACTOR)).and(above(500_000)).and(fromBatch(settled)));
            receiver.awaitFurtherMetricBatches(1);
            long truth = latestBuffered(server);
            // the client takes about 3,000 rows a second, and Reactor's count is read a batch or more after the
            // sample (seconds on a loaded machine): the sample may be that many rows above it
            assertThat(items.longValue()).as("items against Reactor's own count %d", truth)
                    .isBetween(truth - 1_000, truth + 40_000);
            System.out.printf("FIGURES objects: reactor items %d (Reactor's count %d), %d bytes read by the client%n",
                    items.longValue(), truth, client.bodyBytesRead());
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).noneMatch(p -> p.has(LAYER, REACTOR));
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, REACTOR) && p.has(FUNCTION,
                    APP + ".produceObjectsIgnoringDemand"))).isPositive();
            assertWellFormed(receiver);
        }
    }

    /** {@code Flux.generate}: demand-driven, nothing queued, nothing ignored in any layer, every row delivered. */
    @Test
    void aDemandDrivenSourceIgnoresNothing() {
        long rows = 200_000;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver);
             SlowClient client = SlowClient.builder(server.port, "/generate?rows=" + rows)
                     .bytesPerSecond(4_000_000).connect()) {
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(rows * ReactorExport.ROW);
            receiver.awaitFurtherMetricBatches(2);
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).noneMatch(p -> p.has(LAYER, REACTOR));
            assertWellFormed(receiver);
        }
    }

    /**
     * Bounded operators ({@code publishOn} prefetch 256, {@code flatMap} concurrency 16, {@code limitRate(64)}) over
     * {@code Flux.generate}, behind a 200 KB/s client: never ignoring. No ignored write in any layer, no reactor
     * share, and the app's own count of rows produced stays within the operators' windows and the transport's
     * buffers of what the client read (flat).
     */
    @Test
    void boundedOperatorsIgnoreNothingAndStayFlat() {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver);
             SlowClient client = SlowClient.builder(server.port, "/bounded?rows=10000000")
                     .bytesPerSecond(200_000).connect()) {
            client.awaitBodyBytes(400_000);
            receiver.awaitFurtherMetricBatches(2);
            long read = client.bodyBytesRead();
            List<String> lines = server.child.stdout().stream().filter(l -> l.startsWith("PRODUCED ")).toList();
            long produced = Long.parseLong(lines.get(lines.size() - 1).substring("PRODUCED ".length()));
            long ahead = produced * ReactorExport.ROW - read;
            System.out.printf("FIGURES bounded operators: produced %d B, client read %d B, ahead %d B%n",
                    produced * ReactorExport.ROW, read, ahead);
            assertThat(ahead).as("rows produced but not read: the operators' windows, Netty's and the kernel's buffers")
                    .isLessThan(SlowClient.kernelSendBufferMax() + MIB);
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).noneMatch(p -> p.has(LAYER, REACTOR));
            assertWellFormed(receiver);
        }
    }

    /**
     * A producer ignoring demand into the bounded {@code onBackpressureBuffer(100_000)}: the queue holds at most its
     * 100,000 rows (the connection's reactor share, at most 6.4 MB) and Reactor fails the stream when it is full, so
     * the producer stops (its own count below what it meant to send). Bounded, hence never ignoring: no ignored write
     * in any layer, although the queue held far more than the tolerance of 512 rows.
     */
    @Test
    void aBoundedBufferHoldsPendingRowsButIgnoresNothing() {
        long rows = 1_000_000;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver);
             SlowClient client = SlowClient.builder(server.port, "/bounded-buffer?rows=" + rows)
                     .bytesPerSecond(200_000).connect()) {
            long produced = values(server.child.awaitStdoutValue("DONE")).get("rows");
            assertThat(produced).as("stopped by the full buffer").isLessThan(rows);
            MetricPoint held = receiver.awaitPoint("the connection's reactor share beyond 1 MiB",
                    share(REACTOR, client, server.port).and(above(MIB)));
            receiver.awaitFurtherMetricBatches(2);
            long peak = receiver.points().stream().filter(share(REACTOR, client, server.port))
                    .mapToLong(MetricPoint::longValue).max().orElse(0);
            System.out.printf("FIGURES bounded buffer: %d rows produced before the stream failed, reactor share up to"
                    + " %d B (first above 1 MiB: %d B)%n", produced, peak, held.longValue());
            assertThat(peak).isLessThanOrEqualTo((long) ReactorExport.BOUNDED_BUFFER * ReactorExport.ROW);
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            assertWellFormed(receiver);
        }
    }

    /**
     * {@code Sinks.many().multicast().onBackpressureBuffer()} is bounded (256): a producer that ignores
     * {@code FAIL_OVERFLOW} does not fill the heap, it loses rows. Each refusal is one ignored write of the producer's
     * method, exactly the app's own count (the rows its full queue holds are pending, never ignored), and the
     * ignored bytes are the lost rows' characters. What the queue holds is the connection's reactor share, at most
     * its 256 rows.
     */
    @Test
    void aBoundedSinkRefusingEmissionsCountsEachRefusalAsAnIgnoredWrite() {
        long rows = 3_000_000;
        String function = APP + ".emitMulticast";
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver);
             SlowClient client = SlowClient.builder(server.port, "/multicast?rows=" + rows)
                     .bytesPerSecond(200_000).connect()) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("DONE"));
            long refused = done.get("refused");
            assertThat(refused).as("rows the bounded sink refused: %s", done).isPositive();
            Predicate<MetricPoint> site = p -> p.has(LAYER, REACTOR) && p.has(SIGNAL, DEMAND_EXHAUSTED);
            receiver.await("ignored writes equal to the refusals, " + refused,
                    () -> receiver.counterTotal(IGNORED_WRITES, site) == refused);
            assertThat(receiver.counterTotal(IGNORED_WRITES, site.and(p -> p.has(FUNCTION, function))))
                    .as("refusals attributed to %s", function).isEqualTo(refused);
            assertThat(receiver.counterTotal(IGNORED_BYTES, site)).isEqualTo(done.get("refusedChars"));
            List<Long> shares = receiver.points().stream().filter(share(REACTOR, client, server.port))
                    .map(MetricPoint::longValue).toList();
            assertThat(shares).as("the connection's reactor share: the bounded queue").isNotEmpty()
                    .allSatisfy(b -> assertThat(b).isBetween(0L, 256L * ReactorExport.ROW));
            assertThat(shares.stream().mapToLong(Long::longValue).max().orElse(0)).isPositive();
            System.out.printf("FIGURES multicast: %d refusals, %d ignored writes, %d bytes read by the client, reactor"
                    + " share up to %d B%n", refused, receiver.counterTotal(IGNORED_WRITES, site), client.bodyBytesRead(),
                    shares.stream().mapToLong(Long::longValue).max().orElse(0));
            assertWellFormed(receiver);
        }
    }
}

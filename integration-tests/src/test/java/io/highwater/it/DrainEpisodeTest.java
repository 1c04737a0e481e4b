package io.highwater.it;

import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.highwater.it.support.Contract.CONNECTIONS_BLOCKED;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_OLDEST_WAIT;
import static io.highwater.it.support.Contract.DRAIN_STALLS;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.KERNEL_QUEUED_BYTES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertSocketLayerQuiet;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.netty;
import static io.highwater.it.support.Exports.valueIs;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drain episodes (docs/integrations/netty.md: stop / go, waits, stalls): the histogram of ended waits, the gauges of blocked
 * connections and of the oldest running wait, and the stall counter, driven by real slow clients on the respecting
 * endpoint — a writer that waits for every go signal, so each of its waits is a real one.
 *
 * <p>The server pins SO_SNDBUF to 64 KiB (see {@link RespectingWriterTest}), so that what a paused client does not
 * read stays in Netty's outbound buffer instead of in a multi-megabyte loopback kernel buffer.
 */
class DrainEpisodeTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final int SNDBUF = 64 * KIB;

    /**
     * Respecting writer, client paused part-way: one connection blocked while paused, none after the download;
     * ended waits in the histogram (one of them at least as long as the oldest running wait seen while paused);
     * no ignored write and, far below the default 30 s threshold, no stall.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = NettyVariant.class, names = {"NETTY_41_NIO", "NETTY_42_EPOLL"})
    void respectingWriterWaitsAreMeasuredAndTheBlockedConnectionIsCounted(NettyVariant variant) {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("drain-" + variant.name(), variant).sndbuf(SNDBUF)
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start();
             SlowClient client = SlowClient.builder(server.port(), "/respect?bytes=" + 2 * MIB)
                     .bytesPerSecond(2_000_000).pauseAtBodyBytes(512 * KIB).connect()) {
            client.awaitPaused();
            MetricPoint blocked = receiver.awaitPoint("one blocked connection while the client is paused",
                    netty(CONNECTIONS_BLOCKED).and(valueIs(1)));
            // the wait running now is at least this old when it ends
            MetricPoint oldest = receiver.awaitPoint("a running wait, after the one blocked connection was seen",
                    netty(DRAIN_OLDEST_WAIT).and(fromBatch(blocked.batch() + 1)).and(above(0)));

            client.resume();
            client.awaitComplete();
            int afterDownload = receiver.metricBatchCount();
            receiver.awaitPoint("no blocked connection after the download",
                    netty(CONNECTIONS_BLOCKED).and(fromBatch(afterDownload)).and(valueIs(0)));
            MetricPoint waits = receiver.awaitPoint("ended waits in the histogram, after the download",
                    netty(DRAIN_WAIT).and(fromBatch(afterDownload)).and(above(0)));
            receiver.awaitPoint("no running wait after the download",
                    netty(DRAIN_OLDEST_WAIT).and(fromBatch(afterDownload)).and(valueIs(0)));

            assertWellFormed(receiver);
            assertDrainShapes(receiver);
            assertSocketLayerQuiet(receiver);
            assertThat(waits.sum()).as("sum of the ended waits (%s), which include the paused one, seen running at %s",
                    waits, oldest).isGreaterThanOrEqualTo(oldest.doubleValue());
            assertThat(receiver.gaugePoints(CONNECTIONS_BLOCKED)).as("one connection, never more than one blocked")
                    .allSatisfy(p -> assertThat(p.doubleValue()).as("%s", p).isBetween(0.0, 1.0));
            assertThat(receiver.counterPoints(IGNORED_WRITES)).as("ignored writes of a respecting writer")
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.counterPoints(DRAIN_STALLS)).as("stalls (threshold 30 s)").isNotEmpty()
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
        }
    }

    /**
     * A client that stops reading for longer than the stall threshold (lowered to 1 s): exactly one stall for that
     * wait, found by the agent's timer and not counted again while the client stays paused over several more
     * thresholds; the oldest wait grows from export to export; when the client disconnects, its wait ends and lands
     * in the histogram, at least as long as the oldest wait seen before.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = NettyVariant.class, names = {"NETTY_41_NIO", "NETTY_42_EPOLL"})
    void aClientThatStopsReadingIsOneStallAndItsWaitEndsWhenItDisconnects(NettyVariant variant) {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("stall-" + variant.name(), variant).sndbuf(SNDBUF)
                     .agent(ExportServer.agentArgs(receiver.endpoint(), "stall.threshold=1s")).start();
             SlowClient client = SlowClient.builder(server.port(), "/respect?bytes=" + 4 * MIB)
                     .bytesPerSecond(2_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            client.awaitPaused();
            MetricPoint stall = receiver.awaitPoint("one stall", netty(DRAIN_STALLS).and(above(0)));
            // 4 more exports of 500 ms: two more stall thresholds pass while the client stays paused
            receiver.awaitMetricBatches(stall.batch() + 5);
            assertThat(client.state()).as("the client is still paused").isEqualTo(SlowClient.State.PAUSED);

            List<MetricPoint> stalls = receiver.counterPoints(DRAIN_STALLS).stream()
                    .filter(netty(DRAIN_STALLS)).collect(Collectors.toList());
            assertThat(stalls).as("the stall counter: 0 until the stall, then 1 in every export")
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isBetween(0L, 1L))
                    .filteredOn(fromBatch(stall.batch())).hasSizeGreaterThanOrEqualTo(5)
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isEqualTo(1));
            List<Double> oldest = new ArrayList<>();
            for (int b = stall.batch(); b <= stall.batch() + 4; b++) {
                // one point per instrumented layer (netty, servlet): this connection's is the netty one
                List<MetricPoint> inBatch = receiver.pointsInBatch(DRAIN_OLDEST_WAIT, b).stream()
                        .filter(netty(DRAIN_OLDEST_WAIT)).collect(Collectors.toList());
                assertThat(inBatch).as("netty's oldest wait in batch %d", b).hasSize(1);
                oldest.add(inBatch.get(0).doubleValue());
            }
            assertThat(oldest.get(0)).as("the oldest wait when the stall was seen (threshold 1 s)")
                    .isGreaterThanOrEqualTo(1.0);
            assertThat(oldest).as("the oldest wait in consecutive exports while paused")
                    .isSortedAccordingTo(Comparator.naturalOrder()).doesNotHaveDuplicates();

            List<MetricPoint> before = receiver.points(DRAIN_WAIT);
            long countBefore = before.isEmpty() ? 0 : before.get(before.size() - 1).longValue();
            double sumBefore = before.isEmpty() ? 0 : before.get(before.size() - 1).sum();
            int batchesBefore = receiver.metricBatchCount();
            double lastOldest = oldest.get(oldest.size() - 1);

            client.abort();
            MetricPoint after = receiver.awaitPoint("the disconnected client's wait in the histogram",
                    netty(DRAIN_WAIT).and(fromBatch(batchesBefore)).and(above(countBefore)));
            receiver.awaitPoint("no blocked connection after the disconnect",
                    netty(CONNECTIONS_BLOCKED).and(fromBatch(after.batch())).and(valueIs(0)));

            assertThat(after.longValue()).as("waits ended by the disconnect").isEqualTo(countBefore + 1);
            assertThat(after.sum() - sumBefore).as("the length of the wait the disconnect ended (%s)", after)
                    .isGreaterThanOrEqualTo(lastOldest);
            assertThat(receiver.counterPoints(DRAIN_STALLS)).filteredOn(netty(DRAIN_STALLS))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isBetween(0L, 1L));
            assertWellFormed(receiver);
            assertDrainShapes(receiver);
        }
    }

    /**
     * A hundred slow clients on the respecting endpoint: all of them blocked at once, and no export with more than
     * {@code connections.top} (default 10) per-connection series.
     */
    @Test
    void manySlowClientsAreAllCountedAsBlockedButOnlyTheTopTenAreExportedPerConnection() {
        int clients = 100;
        int top = 10;
        List<SlowClient> slow = new ArrayList<>();
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("many-clients", NettyVariant.NETTY_42_NIO).sndbuf(SNDBUF)
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start()) {
            try {
                for (int i = 0; i < clients; i++) {
                    slow.add(SlowClient.builder(server.port(), "/respect?bytes=" + 16 * MIB)
                            .bytesPerSecond(16_000).connect());
                }
                MetricPoint all = receiver.awaitPoint(clients + " blocked connections",
                        netty(CONNECTIONS_BLOCKED).and(valueIs(clients)));
                receiver.awaitMetricBatches(all.batch() + 3);
                assertThat(slow).as("clients still downloading").allMatch(c -> c.state() == SlowClient.State.READING);
            } finally {
                slow.forEach(SlowClient::abort);
            }
            int afterAbort = receiver.metricBatchCount();
            receiver.awaitPoint("no blocked connection after the clients went away",
                    netty(CONNECTIONS_BLOCKED).and(fromBatch(afterAbort)).and(valueIs(0)));

            Map<Integer, Long> perConnection = receiver.gaugePoints(CONNECTION_PENDING_BYTES).stream()
                    .collect(Collectors.groupingBy(MetricPoint::batch, Collectors.counting()));
            assertThat(perConnection).as("per-connection pending series per export (batch -> count)")
                    .isNotEmpty().allSatisfy((batch, n) -> assertThat(n).as("batch %d", batch).isLessThanOrEqualTo(top))
                    .containsValue((long) top);
            Map<Integer, Long> kernel = receiver.gaugePoints(KERNEL_QUEUED_BYTES).stream()
                    .collect(Collectors.groupingBy(MetricPoint::batch, Collectors.counting()));
            assertThat(kernel).as("kernel send-queue series per export (batch -> count)")
                    .allSatisfy((batch, n) -> assertThat(n).as("batch %d", batch).isLessThanOrEqualTo(top));
            assertThat(receiver.gaugePoints(CONNECTIONS_BLOCKED)).allSatisfy(p ->
                    assertThat(p.doubleValue()).as("%s", p).isBetween(0.0, (double) clients));
            assertThat(receiver.counterPoints(IGNORED_WRITES))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            assertWellFormed(receiver);
            assertDrainShapes(receiver);
            assertThat(server.child().isAlive()).isTrue();
        } finally {
            slow.forEach(SlowClient::close);
        }
    }

    /** Kinds and units of the drain instruments (docs/metrics.md), for whatever of them has arrived. */
    static void assertDrainShapes(OtlpReceiver receiver) {
        receiver.counterPoints(DRAIN_STALLS).forEach(p -> assertThat(p.unit()).as("unit of %s", p).isEqualTo("{stall}"));
        receiver.gaugePoints(CONNECTIONS_BLOCKED)
                .forEach(p -> assertThat(p.unit()).as("unit of %s", p).isEqualTo("{connection}"));
        receiver.gaugePoints(DRAIN_OLDEST_WAIT).forEach(p -> assertThat(p.unit()).as("unit of %s", p).isEqualTo("s"));
        assertThat(receiver.points(DRAIN_WAIT)).allSatisfy(p -> {
            assertThat(p.kind()).as("kind of %s", p).isEqualTo(MetricPoint.Kind.HISTOGRAM);
            assertThat(p.unit()).as("unit of %s", p).isEqualTo("s");
            assertThat(p.temporality()).as("temporality of %s", p)
                    .isEqualTo(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
        });
    }
}

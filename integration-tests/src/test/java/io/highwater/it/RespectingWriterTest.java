package io.highwater.it;

import io.highwater.it.apps.NettyExportServer;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PENDING_BYTES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertContractShapes;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.connectionPending;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Well-behaved writers must be seen (their connections do hit the stop signal) but never reported as ignoring it,
 * on Netty 4.1 and 4.2 with NIO and epoll.
 *
 * <p>The server pins SO_SNDBUF to 64 KiB for these connections (the kernel then holds about 100 KB of the
 * response): with auto-tuned buffers the loopback kernel would swallow about 3 MB before Netty's outbound buffer,
 * where the agent looks, holds anything, and these small, quick transfers would not stay there long enough for an
 * export to see them. The client pauses part-way, the test waits until an export shows the connection's backlog,
 * then the client resumes and reads the rest.
 */
class RespectingWriterTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final int SNDBUF = 64 * KIB;

    /**
     * The most a respecting writer can leave in Netty's outbound buffer: it writes while the channel is writable,
     * i.e. while pending bytes are at most the high water mark, so the last write starts at or below 64 KiB and adds
     * one chunk. Slack: Netty counts 96 bytes of overhead per buffer entry (at most ~6 entries of 16 KiB fit under
     * the bound, plus the response head and the empty last content), and the response head itself (~100 bytes);
     * 2 KiB covers both with room to spare.
     */
    static long respectingBound(int chunk) {
        return NettyExportServer.HIGH_WATER_MARK + chunk + 2 * KIB;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(NettyVariant.class)
    void respectingWriterIsTrackedButNeverIgnoredAndStaysUnderTheHighWaterMarkPlusOneWrite(NettyVariant variant) {
        long total = 4L * MIB;
        int chunk = 16 * KIB;
        long bound = respectingBound(chunk);
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("respect-" + variant.name(), variant).sndbuf(SNDBUF)
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start();
             SlowClient client = SlowClient.builder(server.port(), "/respect?bytes=" + total + "&chunk=" + chunk)
                     .bytesPerSecond(2_000_000).pauseAtBodyBytes(MIB).connect()) {
            client.awaitPaused();
            // Paused: the writer filled Netty's buffer past the high water mark and stopped; the kernel took what
            // it could. The channel stays unwritable (and the writer waits) until pending bytes drop below the low
            // water mark, so at least 32 KiB stay pending for as long as the client does not read.
            MetricPoint tracked = receiver.awaitPoint("the paused connection's backlog of at least the low water mark",
                    connectionPending(client, server.port()).and(above(NettyExportServer.LOW_WATER_MARK - 1)));
            client.resume();
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            // one complete collection after the download ended
            receiver.awaitFurtherMetricBatches(2);

            assertWellFormed(receiver);
            assertContractShapes(receiver);
            assertThat(receiver.counterPoints(IGNORED_WRITES))
                    .as("ignored writes of a respecting writer (ignored bytes: %d)",
                            receiver.counterTotal(IGNORED_BYTES, p -> true))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.counterPoints(IGNORED_BYTES)).as("ignored bytes of a respecting writer")
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            List<MetricPoint> connection = receiver.points().stream()
                    .filter(connectionPending(client, server.port())).toList();
            assertThat(connection).contains(tracked).allSatisfy(p ->
                    assertThat(p.doubleValue()).as("%s within %d bytes", p, bound).isBetween(0.0, (double) bound));
            // the only connection of this process: the process total obeys the same bound
            assertThat(receiver.gaugePoints(PENDING_BYTES)).filteredOn(p -> p.has(LAYER, NETTY)).allSatisfy(p ->
                    assertThat(p.doubleValue()).as("%s within %d bytes", p, bound).isBetween(0.0, (double) bound));
            assertThat(receiver.gaugePoints(CONNECTION_PENDING_BYTES)).as("no other connection was tracked")
                    .allMatch(connectionPending(client, server.port()));
        }
    }

    /**
     * One 1 MiB buffer written while the channel is writable drives it far above the high water mark, so the
     * connection is tracked, but nothing was written while unwritable except the empty last content that ends
     * every Netty HTTP response (zero bytes, no backlog added): no ignored write.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(NettyVariant.class)
    void oneLargeWriteWhileWritableIsTrackedButNotIgnored(NettyVariant variant) {
        long total = MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("single-" + variant.name(), variant).sndbuf(SNDBUF)
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start();
             SlowClient client = SlowClient.builder(server.port(), "/single?bytes=" + total)
                     .bytesPerSecond(2_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            client.awaitPaused();
            // 1 MiB written at once, 64 KiB read and ~100 KB in the kernel: the rest (> 800 KB) is pending in Netty
            receiver.awaitPoint("the paused connection's backlog above 512 KiB",
                    connectionPending(client, server.port()).and(above(512 * KIB)));
            client.resume();
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            receiver.awaitFurtherMetricBatches(2);

            assertWellFormed(receiver);
            assertContractShapes(receiver);
            assertThat(receiver.counterPoints(IGNORED_WRITES))
                    .as("ignored writes of one write made while writable (ignored bytes: %d)",
                            receiver.counterTotal(IGNORED_BYTES, p -> true))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.counterPoints(IGNORED_BYTES)).as("ignored bytes of one write made while writable")
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.gaugePoints(CONNECTION_PENDING_BYTES))
                    .filteredOn(connectionPending(client, server.port()))
                    .allSatisfy(p -> assertThat(p.doubleValue()).as("%s", p).isLessThanOrEqualTo(total + 2 * KIB));
        }
    }
}

package io.highwater.it;

import io.highwater.it.apps.reactor.ReactorExport;
import io.highwater.it.support.Curl;
import io.highwater.it.support.Fidelity;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.CONNECTION_TOTAL_PENDING_BYTES;
import static io.highwater.it.support.Contract.DEMAND_EXHAUSTED;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.HTTP2;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Contract.REACTOR;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.STREAM_PENDING_BYTES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reactor Netty 1.2.16 serving HTTP/2 without TLS ({@code HttpProtocol.H2C}): each response is written into an HTTP/2
 * stream channel ({@code Http2MultiplexHandler}'s child) of the connection's channel, through Reactor's queue when
 * the producer ignores demand. Three layers hold bytes for one connection at once: Reactor's queue (layer reactor),
 * the stream in Netty's flow controller (layer http2) and the connection's outbound buffer (layer netty); they must
 * add up on one connection, and each write must be judged once, in the layer whose signal was ignored (measured here:
 * Reactor Netty's bounded send keeps the two Netty layers calm, as over HTTP/1.1). Driven by
 * {@code curl --http2-prior-knowledge}. Ground truth: the producer's own count, Reactor's count of its queue.
 */
class Http2ReactorNettyTest {

    private static final long MIB = 1024 * 1024;
    private static final String APP = ReactorExport.class.getName();

    /**
     * {@code Flux.create} looping {@code sink.next(row)} without looking at the demand, behind curl at 200 KB/s: the
     * rows pile up in Reactor's queue, the reactor share follows Reactor's own count, the emissions are ignored writes
     * of the producer in layer reactor and nowhere else (Reactor Netty writes into the stream channel only while it is
     * writable), and the connection (found through the stream channel) has one total, its shares' sum.
     */
    @Test
    void aProducerIgnoringDemandOverH2cIsJudgedInLayerReactorOnTheStreamsConnection() throws IOException {
        long rows = 1_500_000;
        String function = APP + ".produceIgnoringDemand";
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = ReactorQueueTest.server(receiver, "--h2c");
             Curl curl = Curl.h2PriorKnowledge(server.port, "/create?rows=" + rows, "200k")) {
            assertThat(ReactorQueueTest.values(server.child.awaitStdoutValue("DONE")).get("rows")).isEqualTo(rows);
            int settled = receiver.firstBatchCollectedFromNow();
            MetricPoint held = receiver.awaitPoint("the connection's reactor share beyond 50 MiB",
                    metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, REACTOR)).and(above(50 * MIB))
                            .and(fromBatch(settled)));
            receiver.awaitFurtherMetricBatches(1);
            long truth = ReactorQueueTest.latestBuffered(server) * ReactorExport.ROW;
            Fidelity.record("reactor netty over h2c, Flux.create ignoring demand", "Reactor's queue x 64 B", truth,
                    "reactor share", held.longValue());
            assertThat(held.longValue()).as("reactor share against Reactor's own count, %d bytes", truth)
                    .isBetween(truth - MIB, truth + 4 * MIB);

            // the stream channel's connection: the client's address through the stream's parent, one total that is
            // the sum of its shares in the same batch
            Object peerPort = held.attr(PEER_PORT);
            assertThat(peerPort).as("the client's port, read through the stream channel, against the kernel's")
                    .isEqualTo(curlPort(server.port));
            Predicate<MetricPoint> sameConnection = p -> p.batch() == held.batch() && p.has(PEER_PORT, peerPort);
            List<MetricPoint> shares = receiver.points(CONNECTION_PENDING_BYTES).stream().filter(sameConnection)
                    .toList();
            List<MetricPoint> totals = receiver.points(CONNECTION_TOTAL_PENDING_BYTES).stream()
                    .filter(sameConnection).toList();
            assertThat(totals).as("one total for the connection of peer port %s: %s", peerPort, shares).hasSize(1);
            assertThat(totals.get(0).longValue()).as("the total against its shares %s", shares)
                    .isEqualTo(shares.stream().mapToLong(MetricPoint::longValue).sum());

            Predicate<MetricPoint> site = p -> p.has(LAYER, REACTOR) && p.has(SIGNAL, DEMAND_EXHAUSTED)
                    && p.has(FUNCTION, function);
            receiver.awaitPoint("ignored writes of " + function, metric(IGNORED_WRITES).and(site).and(above(0)));
            receiver.awaitFurtherMetricBatches(1);
            long ignored = receiver.counterTotal(IGNORED_WRITES, site);
            assertThat(ignored).as("rows emitted beyond tolerance without demand").isLessThanOrEqualTo(rows)
                    .isGreaterThan(rows / 2);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, REACTOR))).isEqualTo(ignored);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, HTTP2) || p.has(LAYER, NETTY)))
                    .as("Reactor Netty writes into the stream channel only while it is writable").isZero();
            // Reactor Netty keeps at most 128 elements in flight per stream, here 8 KiB: below the stream channel's
            // high-water mark, so the stream channel never turns unwritable and the flow controller holds no pile
            assertThat(receiver.points(STREAM_PENDING_BYTES)).as("streams holding a pile in the flow controller")
                    .allSatisfy(p -> assertThat(p.longValue()).isLessThan(MIB));
            System.out.printf("FIGURES reactor netty h2c ignoring: reactor share %d B (Reactor's count x 64: %d B),"
                    + " shares %s, ignored writes %d of %d rows%n", held.longValue(), truth,
                    shares.stream().map(p -> p.attr(LAYER) + "=" + p.longValue()).toList(), ignored, rows);
            assertThat(curl.isReading()).as("curl still reading: the pile was measured while it drained").isTrue();
            assertWellFormed(receiver);
        }
    }

    /**
     * The client port of the one established connection to {@code serverPort}, from the kernel's own table
     * ({@code /proc/net/tcp6}, {@code /proc/net/tcp}): curl's, which the test cannot ask curl for.
     */
    private static long curlPort(int serverPort) throws IOException {
        List<Long> peers = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp6", "/proc/net/tcp")) {
            Path p = Path.of(table);
            if (!Files.isReadable(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st ...; addresses are HEX_IP:HEX_PORT, state 01 is ESTABLISHED
                if (f.length > 3 && f[3].equals("01") && f[1].endsWith(String.format(":%04X", serverPort))) {
                    peers.add(Long.parseLong(f[2].substring(f[2].indexOf(':') + 1), 16));
                }
            }
        }
        assertThat(peers).as("established connections to port %d", serverPort).hasSize(1);
        return peers.get(0);
    }

    /**
     * {@code Flux.generate} over h2c behind curl at 1 MB/s: demand-driven, every row delivered (curl checks the length),
     * nothing ignored in any layer, no reactor share.
     */
    @Test
    void aDemandDrivenSourceOverH2cIgnoresNothing() throws Exception {
        long rows = 100_000;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = ReactorQueueTest.server(receiver, "--h2c");
             Curl curl = Curl.h2PriorKnowledge(server.port, "/generate?rows=" + rows, "1m")) {
            assertThat(curl.awaitExit()).as("curl's exit code: the whole body read").isZero();
            receiver.awaitFurtherMetricBatches(2);
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).noneMatch(p -> p.has(LAYER, REACTOR));
            assertWellFormed(receiver);
        }
    }
}

package io.highwater.it;

import io.highwater.it.apps.reactor.ReactorExport;
import io.highwater.it.apps.webflux.WebFluxExport;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import java.nio.file.Paths;
import java.util.List;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DEMAND_EXHAUSTED;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PEER_ADDRESS;
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
 * The reactor layer under Spring WebFlux 6.2.19 (functional endpoints on Reactor Netty 1.2.16): the sink's queue is
 * found behind WebFlux's encoder and write barrier ({@code ChannelSendOperator}), on the connection's channel.
 * Ground truth: the producer's count of rows and Reactor's own count of the sink's queue.
 */
class WebFluxQueueTest {

    private static final long MIB = 1024 * 1024;
    private static final String IGNORING = WebFluxExport.class.getName() + ".produceIgnoringDemand";

    static ListeningChild server(OtlpReceiver receiver) {
        return ListeningChild.start(ChildJvm.builder("webflux").classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.webflux"))))
                .mainClass(WebFluxExport.class.getName())
                .jvmArg("-Xmx768m")
                .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint())));
    }

    private static Predicate<MetricPoint> share(String layer, SlowClient client, int serverPort) {
        return metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, layer) && p.has(PEER_ADDRESS, "127.0.0.1")
                && p.has(PEER_PORT, (long) client.localPort()) && p.has(SERVER_PORT, (long) serverPort));
    }

    /**
     * {@code Flux.create} looping {@code sink.next} without looking at the demand, behind a 200 KB/s client: caught
     * with its method, before the heap is full, the pile-up shown in MB as the connection's reactor share, against
     * Reactor's own count.
     */
    @Test
    void aWebFluxExportIgnoringDemandIsCaughtWithItsMethodAndItsPileUp() {
        long rows = 1_500_000;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver);
             SlowClient client = SlowClient.builder(server.port, "/create?rows=" + rows)
                     .bytesPerSecond(200_000).connect()) {
            assertThat(server.child.awaitStdoutValue("DONE")).isEqualTo("rows=" + rows);
            int settled = receiver.firstBatchCollectedFromNow();
            MetricPoint held = receiver.awaitPoint("the connection's reactor share beyond 50 MiB",
                    share(REACTOR, client, server.port).and(above(50 * MIB)).and(fromBatch(settled)));
            receiver.awaitFurtherMetricBatches(1);
            List<String> lines = server.child.stdout().stream().filter(l -> l.startsWith("TRUTH ")).toList();
            long truth = Long.parseLong(lines.get(lines.size() - 1).substring("TRUTH buffered=".length()))
                    * ReactorExport.ROW;
            assertThat(held.longValue()).as("reactor share against Reactor's own count, %d bytes", truth)
                    .isBetween(truth - MIB, truth + 4 * MIB);
            Predicate<MetricPoint> site = p -> p.has(LAYER, REACTOR) && p.has(SIGNAL, DEMAND_EXHAUSTED)
                    && p.has(FUNCTION, IGNORING);
            receiver.awaitPoint("ignored writes of " + IGNORING, metric(IGNORED_WRITES).and(site).and(above(0)));
            receiver.awaitFurtherMetricBatches(1);
            long ignored = receiver.counterTotal(IGNORED_WRITES, site);
            assertThat(ignored).isLessThanOrEqualTo(rows).isGreaterThan(rows / 2);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY))).isZero();
            System.out.printf("FIGURES webflux create: reactor share %d B (Reactor's count x 64: %d B), ignored %d of"
                    + " %d rows%n", held.longValue(), truth, ignored, rows);
            assertWellFormed(receiver);
        }
    }

    /** {@code Flux.generate}: nothing ignored in any layer, no reactor share, every row delivered. */
    @Test
    void aWebFluxExportFromGenerateIgnoresNothing() {
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
}

package io.highwater.it;

import io.highwater.it.apps.boot.BootExport;
import io.highwater.it.apps.reactor.ReactorExport;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DEMAND_EXHAUSTED;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PEER_ADDRESS;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Contract.PENDING_BYTES;
import static io.highwater.it.support.Contract.REACTOR;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reactor layer in a real Spring Boot 3.5.7 app ({@code spring-boot-starter-webflux} at its BOM's versions:
 * Spring 6.2.12, Reactor Netty 1.2.11, reactor-core 3.7.12, Netty 4.1.128 on epoll), started with
 * {@code SpringApplication.run} and its auto-configured Reactor Netty server, an annotated controller streaming
 * rows, {@code -Xmx256m}, a client reading 200 KB/s. Ground truth: the app's own counts of rows produced and rows
 * that left the sink toward the connection, Reactor's own count of the sink's queue, and the app's heap
 * ({@code -XX:+ExitOnOutOfMemoryError}: a full heap would end the process).
 */
class BootWebFluxTest {

    private static final long MIB = 1024 * 1024;
    private static final String IGNORING = BootExport.class.getName() + ".produceIgnoringDemand";

    static ListeningChild boot(OtlpReceiver receiver) {
        ChildJvm.Builder b = ChildJvm.builder("boot-webflux").classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.bootwebflux"))))
                .mainClass(BootExport.class.getName())
                .jvmArg("-Xmx256m", "-XX:+ExitOnOutOfMemoryError");
        if (receiver != null) {
            b.jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint()));
        }
        return ListeningChild.start(b, child -> assertThat(child.stdout()).as("started the Boot way")
                .contains("BOOT version=3.5.7 server=org.springframework.boot.web.embedded.netty.NettyWebServer"));
    }

    private static Map<String, Long> values(String line) {
        Map<String, Long> out = new HashMap<>();
        for (String pair : line.trim().split(" ")) {
            int eq = pair.indexOf('=');
            out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return out;
    }

    private static Map<String, Long> latestTruth(ListeningChild server) {
        List<String> lines = server.child.stdout().stream().filter(l -> l.startsWith("TRUTH ")).toList();
        assertThat(lines).as("the app's own counts").isNotEmpty();
        return values(lines.get(lines.size() - 1).substring("TRUTH ".length()));
    }

    private static Predicate<MetricPoint> share(String layer, SlowClient client, int serverPort) {
        return metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, layer) && p.has(PEER_ADDRESS, "127.0.0.1")
                && p.has(PEER_PORT, (long) client.localPort()) && p.has(SERVER_PORT, (long) serverPort));
    }

    private static Predicate<MetricPoint> ignoredAt(String function) {
        return metric(IGNORED_WRITES).and(p -> p.has(LAYER, REACTOR) && p.has(SIGNAL, DEMAND_EXHAUSTED)
                && p.has(FUNCTION, function));
    }

    /**
     * A controller whose {@code Flux.create} producer loops {@code sink.next} without looking at the demand: the
     * rows pile up in the sink's queue while Reactor Netty keeps 128 in flight. The connection's reactor share (and
     * the layer's {@code backpressure.pending.bytes}) is that pile-up in MB, against the app's own count of rows
     * produced but not yet written (and Reactor's count of the queue); the rows emitted beyond tolerance are ignored
     * writes of the producer's method; the heap is not full (the process is alive, no OOM).
     */
    @Test
    void aBootControllerIgnoringDemandIsCaughtWithItsMethodAndItsPileUpInMegabytes() {
        long rows = 900_000;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = boot(receiver);
             SlowClient client = SlowClient.builder(server.port, "/create?rows=" + rows)
                     .bytesPerSecond(200_000).connect()) {
            assertThat(values(server.child.awaitStdoutValue("DONE")).get("rows")).isEqualTo(rows);
            int settled = receiver.firstBatchCollectedFromNow();
            MetricPoint held = receiver.awaitPoint("the connection's reactor share beyond 40 MiB",
                    share(REACTOR, client, server.port).and(above(40 * MIB)).and(fromBatch(settled)));
            MetricPoint layer = receiver.pointsInBatch(PENDING_BYTES, held.batch()).stream()
                    .filter(p -> p.has(LAYER, REACTOR)).findFirst().orElseThrow();
            receiver.awaitFurtherMetricBatches(1);
            Map<String, Long> truth = latestTruth(server);
            long queued = (truth.get("produced") - truth.get("written")) * ReactorExport.ROW;
            long buffered = truth.get("buffered") * ReactorExport.ROW;
            // the client drains 200 KB/s: between the export and the app's next reading, at most a few hundred KB
            assertThat(held.longValue()).as("reactor share against the app's produced - written, %d B", queued)
                    .isBetween(queued - MIB, queued + 4 * MIB);
            assertThat(held.longValue()).as("reactor share against Reactor's count of the queue, %d B", buffered)
                    .isBetween(buffered - MIB, buffered + 4 * MIB);
            assertThat(layer.longValue()).as("the layer's pending bytes in the same batch").isEqualTo(held.longValue());

            receiver.awaitPoint("ignored writes of " + IGNORING, ignoredAt(IGNORING).and(above(0)));
            receiver.awaitFurtherMetricBatches(1);
            long ignored = receiver.counterTotal(IGNORED_WRITES, ignoredAt(IGNORING));
            assertThat(ignored).as("rows emitted beyond tolerance without demand").isLessThanOrEqualTo(rows)
                    .isGreaterThan(rows / 2);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, REACTOR))).isEqualTo(ignored);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY))).isZero();
            assertThat(server.child.isAlive()).as("the heap is not full").isTrue();
            assertThat(server.child.stderr()).noneMatch(l -> l.contains("OutOfMemoryError"));
            System.out.printf("FIGURES boot create: reactor share %.1f MB (app: produced - written %.1f MB, Reactor's"
                            + " queue %.1f MB; heap used %.1f of %.1f MB), ignored %d of %d rows at %s%n",
                    held.longValue() / 1e6, queued / 1e6, buffered / 1e6, truth.get("heap") / 1e6,
                    truth.get("max") / 1e6, ignored, rows, IGNORING);
            assertWellFormed(receiver);
        }
    }

    /**
     * The same controller with {@code Flux.generate}: rows are produced as the connection asks for them. Nothing is
     * ignored in any layer, the connection has no reactor share, and the app's own count of rows produced stays
     * within a few windows of what the client read (flat, however long it runs).
     */
    @Test
    void aBootControllerFromGenerateIgnoresNothingAndStaysFlat() {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = boot(receiver);
             SlowClient client = SlowClient.builder(server.port, "/generate").bytesPerSecond(200_000).connect()) {
            client.awaitBodyBytes(400_000);
            receiver.awaitFurtherMetricBatches(2);
            long read = client.bodyBytesRead();
            Map<String, Long> truth = latestTruth(server);
            long ahead = truth.get("produced") * ReactorExport.ROW - read;
            System.out.printf("FIGURES boot generate: produced %.2f MB, client read %.2f MB, ahead %.2f MB%n",
                    truth.get("produced") * ReactorExport.ROW / 1e6, read / 1e6, ahead / 1e6);
            assertThat(ahead).as("rows produced but not read by the client: Netty's and the kernel's buffers")
                    .isLessThan(SlowClient.kernelSendBufferMax() + MIB);
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).noneMatch(p -> p.has(LAYER, REACTOR));
            assertWellFormed(receiver);
        }
    }
}

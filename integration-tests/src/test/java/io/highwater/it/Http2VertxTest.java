package io.highwater.it;

import io.highwater.it.apps.vertx.VertxExport;
import io.highwater.it.support.Curl;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.function.Predicate;

import static io.highwater.it.GrpcCallNotReadyTest.values;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.HTTP2;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PENDING_BYTES;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.VERTX;
import static io.highwater.it.support.Contract.WRITE_QUEUE_FULL;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vert.x 5 in HTTP/2 mode (h2c with prior knowledge, which Vert.x's server accepts by default) behind
 * {@code curl --http2-prior-knowledge --limit-rate 200k}: a writer that ignores {@code writeQueueFull()}
 * ({@link VertxExport}'s {@code /ignore}). Vert.x writes to Netty's HTTP/2 encoder directly, so its frames pass the
 * flow controller's advice; but it hands a stream's frames on only while the flow controller says the stream is
 * writable, and keeps the rest in its own queue. One judgement per application write: the vertx layer judges the
 * writes ({@code write_queue_full}, the app's method) and holds the pile; the http2 layer judges none and holds no
 * more than the flow controller's floor.
 */
class Http2VertxTest {

    private static final long MIB = 1024 * 1024;
    private static final String IGNORING = VertxExport.class.getName() + ".ignoring";

    @Test
    void vertxOverH2cIsJudgedOnceInItsOwnLayer() throws Exception {
        long total = 48 * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = VertxQueueTest.server(VertxQueueTest.Line.VERTX_5, receiver)) {
            try (Curl curl = Curl.h2PriorKnowledge(server.port, "/ignore?bytes=" + total, "200k")) {
                Map<String, Long> done = values(server.child.awaitStdoutValue("IGNORED-DONE"));
                long whileFull = done.get("whileFull");
                assertThat(whileFull).as("writes the app made while the queue said full: %s", done)
                        .isGreaterThan(1000);

                int settled = receiver.firstBatchCollectedFromNow();
                receiver.awaitPoint("the connection's vertx share beyond 10 MiB", metric(CONNECTION_PENDING_BYTES)
                        .and(p -> p.has(LAYER, VERTX)).and(above(10 * MIB)).and(fromBatch(settled)));
                Predicate<MetricPoint> site = p -> p.has(LAYER, VERTX) && p.has(SIGNAL, WRITE_QUEUE_FULL)
                        && p.has(FUNCTION, IGNORING);
                receiver.awaitPoint("ignored writes of " + IGNORING, metric(IGNORED_WRITES).and(site).and(above(0)));
                receiver.awaitFurtherMetricBatches(2);
                long ignored = receiver.counterTotal(IGNORED_WRITES, site);
                assertThat(ignored).as("vertx ignored writes; the app wrote %d times while full", whileFull)
                        .isPositive().isLessThanOrEqualTo(whileFull);
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, VERTX))).isEqualTo(ignored);
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, HTTP2)))
                        .as("the frames Vert.x hands to the HTTP/2 encoder were judged in layer vertx").isZero();
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY))).isZero();
                // Vert.x keeps the pile in its own queue: the flow controller holds at most about its floor (64 KiB)
                assertThat(receiver.points(PENDING_BYTES).stream().filter(p -> p.has(LAYER, HTTP2))
                        .mapToLong(MetricPoint::longValue).max().orElse(0))
                        .as("http2 pending bytes").isLessThanOrEqualTo(128 * 1024);
                System.out.printf("FIGURES vertx 5 h2c ignoring: vertx ignored writes %d of %d made while full,"
                        + " http2 ignored 0%n", ignored, whileFull);
                assertThat(curl.isReading()).as("curl still reading: the pile was measured while it drained").isTrue();
                assertWellFormed(receiver);
            }
        }
    }
}

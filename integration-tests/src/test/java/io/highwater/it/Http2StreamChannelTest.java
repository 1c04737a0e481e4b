package io.highwater.it;

import io.highwater.it.apps.h2.H2cServer;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.Curl;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static io.highwater.it.GrpcCallNotReadyTest.values;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.HTTP2;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.STREAM_PENDING_BYTES;
import static io.highwater.it.support.Contract.STREAM_WINDOW_EXHAUSTED;
import static io.highwater.it.support.Contract.URL_PATH;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Netty h2c server with stream channels ({@link H2cServer}) on Netty 4.1 and 4.2, driven by
 * {@code curl --http2-prior-knowledge --limit-rate}. A stream channel has no outbound buffer: its backlog sits in
 * the connection's HTTP/2 flow controller, which the netty layer never sees. The ground truth is what the stream
 * channel itself says through Netty's public API ({@code isWritable()}, {@code bytesBeforeWritable()}).
 */
class Http2StreamChannelTest {

    private static final int KIB = 1024;
    private static final int CHUNK = 16 * KIB;
    /** The stream channel's high-water mark (Netty's default, 64 KiB) plus the agent's default tolerance. */
    private static final long BEYOND = 2 * 64 * KIB;

    private static ChildJvm server(String netty, OtlpReceiver receiver, long total) {
        Path dir = netty.equals("4.1") ? ItEnv.netty41Dir() : ItEnv.netty42Dir();
        ChildJvm child = ChildJvm.builder("h2c-" + netty).classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(dir)).mainClass(H2cServer.class)
                .jvmArg("-Xmx256m", "-XX:MaxDirectMemorySize=512m",
                        "-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint()))
                .args("--total", String.valueOf(total), "--chunk", String.valueOf(CHUNK),
                        "--beyond", String.valueOf(BEYOND))
                .start();
        assertThat(child.awaitStdoutValue("NETTY-VERSION"))
                .isEqualTo(ItEnv.property("highwater.it.netty" + netty.replace(".", "") + ".version"));
        return child;
    }

    private static long lastPending(ChildJvm child) {
        List<String> lines = child.stdout();
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("PENDING ")) {
                return Long.parseLong(lines.get(i).substring(8).trim());
            }
        }
        throw new AssertionError("no PENDING line:\n" + child.transcript());
    }

    private static Predicate<MetricPoint> ignoredBy(String function) {
        return p -> p.has(LAYER, HTTP2) && p.has(SIGNAL, STREAM_WINDOW_EXHAUSTED) && p.has(FUNCTION, function);
    }

    /**
     * An application thread writes DATA frames into a stream channel without looking at its writability, behind
     * curl reading 200 KB/s: each write made while the stream channel was unwritable, with more than the tolerance
     * pending in it, is one ignored write of the application's method; the stream's pending bytes (the flow
     * controller's count) follow what the stream channel holds, under the request's path; no write counts in the
     * netty layer as well.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void writesIntoAnUnwritableStreamChannelAreIgnoredWrites(String netty) throws Exception {
        String function = H2cServer.class.getName() + "$StreamHandler.writeIgnoring";
        try (OtlpReceiver receiver = OtlpReceiver.start(); ChildJvm child = server(netty, receiver, 48L << 20)) {
            try (Curl curl = Curl.h2PriorKnowledge(child.awaitListening(), "/ignore", "200k")) {
                Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
                long unwritable = truth.get("unwritable");
                long beyond = truth.get("beyond");
                assertThat(beyond).as("writes with more than %d bytes pending: %s", BEYOND, truth).isGreaterThan(1000);

                int after = receiver.metricBatchCount() + 1;
                MetricPoint stream = receiver.awaitPoint("the h2c stream of /ignore",
                        metric(STREAM_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2) && p.has(URL_PATH, "/ignore"))
                                .and(fromBatch(after)));
                long pending = lastPending(child);
                assertThat((double) stream.longValue()).as("stream pending vs the stream channel's own %d", pending)
                        .isBetween(pending * 0.9, pending * 1.1);
                receiver.awaitPoint("the connection's http2 share",
                        metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2)).and(fromBatch(after)));

                receiver.awaitFurtherMetricBatches(2);
                long ignored = receiver.counterTotal(IGNORED_WRITES, ignoredBy(function));
                // the application read the stream channel's state just before the agent did, on the same thread;
                // only the event loop's drain in between can move a write across the tolerance
                assertThat(ignored).as("ignored writes of %s; the application saw %s", function, truth)
                        .isBetween(beyond - 16, unwritable);
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, HTTP2)))
                        .as("http2 ignored writes of any call site").isEqualTo(ignored);
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY)))
                        .as("the frames Http2MultiplexHandler passes to the connection are not the application's")
                        .isZero();
                assertThat(curl.isReading()).as("curl still reading: the stream was measured while it drained").isTrue();
                assertWellFormed(receiver);
            }
        }
    }

    /**
     * A stream handler that writes while the stream channel is writable and resumes on
     * {@code channelWritabilityChanged}: no ignored write on any layer, and its waits recorded in layer http2.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void aWriterThatWaitsForWritabilityIgnoresNothing(String netty) throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ChildJvm child = server(netty, receiver, 4L << 20)) {
            try (Curl curl = Curl.h2PriorKnowledge(child.awaitListening(), "/respect", "1m")) {
                child.awaitStdoutValue("SENT");
                assertThat(curl.awaitExit()).as("curl's exit code").isZero();
                receiver.await("http2 drain waits", () -> receiver.points(DRAIN_WAIT).stream()
                        .anyMatch(p -> p.has(LAYER, HTTP2) && p.longValue() > 0));
                receiver.awaitFurtherMetricBatches(2);
                assertThat(receiver.counterPoints(IGNORED_WRITES))
                        .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
                assertWellFormed(receiver);
            }
        }
    }
}

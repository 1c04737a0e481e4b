package io.highwater.it;

import io.highwater.it.apps.h2.H2cServer;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.Curl;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.Fidelity;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.TrustingTls;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

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
 * HTTP/2 as production serves it: over TLS, {@code h2} chosen by ALPN ({@link H2cServer} with {@code --tls}: the
 * JDK's TLS under Netty's {@code SslHandler}, then {@code Http2FrameCodec} + {@code Http2MultiplexHandler} installed
 * by an {@code ApplicationProtocolNegotiationHandler}), on Netty 4.1 and 4.2, driven by {@code curl --http2 -k
 * --limit-rate}. What {@link Http2StreamChannelTest} proves over h2c must hold here too, although every byte now
 * passes one more handler: {@code SslHandler} writes the encrypted records into the connection's pipeline, writes
 * that must not look like the application's. Ground truth: the application's own counts on stdout (writes made while
 * the stream channel was unwritable, and beyond the tolerance) and the stream channel's own pending bytes.
 */
class Http2TlsTest {

    static final int KIB = 1024;
    static final int CHUNK = 16 * KIB;
    /** The stream channel's high-water mark (Netty's default, 64 KiB) plus the agent's default tolerance. */
    static final long BEYOND = 2 * 64 * KIB;
    static final String IGNORING = H2cServer.class.getName() + "$StreamHandler.writeIgnoring";

    /**
     * {@link H2cServer} over TLS with a fresh self-signed key in {@code keys}; {@code before}: JVM arguments put
     * before highwater's {@code -javaagent} (another agent first on the command line).
     */
    static ChildJvm server(String netty, OtlpReceiver receiver, long total, Path keys, List<String> before) {
        Path dir = netty.equals("4.1") ? ItEnv.netty41Dir() : ItEnv.netty42Dir();
        Path keyStore = TrustingTls.selfSignedKeyStore(keys);
        ChildJvm child = ChildJvm.builder("h2-tls-" + netty).classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(dir)).mainClass(H2cServer.class)
                .jvmArg("-Xmx256m", "-XX:MaxDirectMemorySize=512m")
                .jvmArg(before.toArray(new String[0]))
                .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint()))
                .args("--total", String.valueOf(total), "--chunk", String.valueOf(CHUNK),
                        "--beyond", String.valueOf(BEYOND), "--tls", keyStore.toString())
                .start();
        assertThat(child.awaitStdoutValue("NETTY-VERSION"))
                .isEqualTo(ItEnv.property("highwater.it.netty" + netty.replace(".", "") + ".version"));
        return child;
    }

    /** The connection's handlers once TLS chose h2 (the server prints them from the ALPN handler). */
    static String assertNegotiatedH2OverTls(ChildJvm child) {
        String pipeline = child.awaitStdoutValue("PIPELINE");
        assertThat(pipeline).as("TLS, then the h2 codec and multiplexer installed after ALPN chose h2")
                .contains("io.netty.handler.ssl.SslHandler", "io.netty.handler.codec.http2.Http2FrameCodec",
                        "io.netty.handler.codec.http2.Http2MultiplexHandler");
        return pipeline;
    }

    /**
     * An application thread writes 48 MiB of 16 KiB DATA frames into a stream channel without looking at its
     * writability, behind curl reading 200 KB/s over TLS: ignored writes in layer http2 of the application's method,
     * between the application's own counts of writes made beyond the tolerance and while unwritable; none in layer
     * netty (the multiplexer's frames and SslHandler's records are Netty's writes, not the application's); no other
     * call site; the stream's pending bytes within 10 % of the stream channel's own count.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void anIgnoringWriterOverTlsIsJudgedInLayerHttp2Only(String netty, @TempDir Path keys) throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = server(netty, receiver, 48L << 20, keys, List.of())) {
            assertIgnoringWriterJudged("h2 over TLS (ALPN), netty " + netty, receiver, child);
        }
    }

    /** The checks of the ignoring writer over TLS, alone or beside another agent; returns the server's pipeline. */
    static String assertIgnoringWriterJudged(String shape, OtlpReceiver receiver, ChildJvm child) throws Exception {
        try (Curl curl = Curl.h2Tls(child.awaitListening(), "/ignore", "200k")) {
            String pipeline = assertNegotiatedH2OverTls(child);
            Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
            long unwritable = truth.get("unwritable");
            long beyond = truth.get("beyond");
            assertThat(beyond).as("writes with more than %d bytes pending: %s", BEYOND, truth).isGreaterThan(1000);

            // the writer's writes from its own thread wait in the event loop's task queue until the loop runs them:
            // the stream channel counts them at once, the flow controller (what the agent reads) once they ran. Beside
            // the OpenTelemetry Java agent one collection two batches after the writer's end exported 33 MB against the
            // stream channel's 44 MB: compare after the loop ran them all
            String run = child.awaitStdout("the event loop ran every write", l -> l.startsWith("WRITES-RUN SENT "));
            System.out.println(shape + ": " + run + "; the loop ran tasks up to " + H2Checks.loopLag(child)
                    + " ms after they were queued");
            int after = receiver.firstBatchCollectedFromNow();
            MetricPoint stream = receiver.awaitPoint("the h2 stream of /ignore",
                    metric(STREAM_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2) && p.has(URL_PATH, "/ignore"))
                            .and(fromBatch(after)));
            long pending = H2Checks.lastReading(child, "PENDING");
            Fidelity.record(shape + ", ignoring writer finished", "stream channel's own pending (app)", pending,
                    "stream pending bytes", stream.longValue());
            assertThat(pending).as("the pile is still there").isGreaterThan(1L << 20);
            assertThat((double) stream.longValue()).as("stream pending vs the stream channel's own %d; the stream's"
                            + " exports (batch:bytes): %s", pending, receiver.points(STREAM_PENDING_BYTES).stream()
                            .map(p -> p.batch() + ":" + p.longValue()).collect(Collectors.joining(", ")))
                    .isBetween(pending * 0.9, pending * 1.1);
            receiver.awaitPoint("the connection's http2 share",
                    metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2)).and(fromBatch(after)));

            receiver.awaitFurtherMetricBatches(2);
            long ignored = receiver.counterTotal(IGNORED_WRITES, ignoredBy(IGNORING));
            Fidelity.record(shape + ", ignoring writer", "writes beyond the tolerance (app)", beyond,
                    "http2 ignored writes of the app's method", ignored);
            // the application read the stream channel's state just before the agent did, on the same thread; only
            // the event loop's drain in between can move a write across the tolerance
            assertThat(ignored).as("ignored writes of %s; the application saw %s; by call site %s, http2 %d, netty %d",
                            IGNORING, truth, callSites(receiver),
                            receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, HTTP2)),
                            receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY)))
                    .isBetween(beyond - 16, unwritable);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, HTTP2)))
                    .as("http2 ignored writes of any call site").isEqualTo(ignored);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY)))
                    .as("SslHandler's records and the multiplexer's frames are not the application's writes")
                    .isZero();
            assertThat(callSites(receiver)).as("ignored writes by call site, any layer")
                    .containsExactly(Map.entry(IGNORING, ignored));
            assertThat(curl.isReading()).as("curl still reading: the stream was measured while it drained").isTrue();
            assertWellFormed(receiver);
        }
        return child.stdout().stream().filter(l -> l.startsWith("PIPELINE ")).findFirst().orElseThrow();
    }

    /**
     * A stream handler that writes while the stream channel is writable and resumes on
     * {@code channelWritabilityChanged}, behind curl reading 1 MB/s over TLS: it stopped (the application says so),
     * the stops were seen (drain waits in layer http2), no ignored write on any layer, and pending bytes never beyond
     * the tolerance: neither the stream channel's own count (read by the application every 200 ms) nor any stream or
     * connection gauge exported.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void aWriterThatWaitsForWritabilityOverTlsIgnoresNothing(String netty, @TempDir Path keys) throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = server(netty, receiver, 8L << 20, keys, List.of());
             Curl curl = Curl.h2Tls(child.awaitListening(), "/respect", "1m")) {
            assertNegotiatedH2OverTls(child);
            child.awaitStdout("the respecting writer stopped", l -> l.startsWith("WAITING /respect"));
            child.awaitStdoutValue("SENT");
            assertThat(curl.awaitExit()).as("curl's exit code: the whole body read").isZero();
            receiver.await("http2 drain waits", () -> receiver.points(DRAIN_WAIT).stream()
                    .anyMatch(p -> p.has(LAYER, HTTP2) && p.longValue() > 0));
            receiver.awaitFurtherMetricBatches(2);
            assertThat(receiver.counterPoints(IGNORED_WRITES))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
            long maxStream = receiver.points(STREAM_PENDING_BYTES).stream().mapToLong(MetricPoint::longValue).max()
                    .orElse(0);
            long maxConnection = receiver.points(CONNECTION_PENDING_BYTES).stream()
                    .mapToLong(MetricPoint::longValue).max().orElse(0);
            long appMax = child.stdout().stream().filter(l -> l.startsWith("PENDING "))
                    .mapToLong(l -> Long.parseLong(l.substring("PENDING ".length()).trim())).max().orElse(0);
            System.out.println("respecting over TLS, netty " + netty + ": max stream pending " + maxStream
                    + " (the stream channel's own, every 200 ms: " + appMax + "), max connection pending (one layer) "
                    + maxConnection);
            // the writer stops past the stream channel's high-water mark (64 KiB) with at most one frame more; the
            // connection's own outbound buffer is let fill to its high-water mark only (the flow controller writes
            // while the connection is writable), plus one TLS record's overhead
            assertThat(appMax).as("the stream channel's own count, the writer's bound").isLessThanOrEqualTo(BEYOND);
            assertThat(maxStream).as("stream pending bytes exported").isLessThanOrEqualTo(BEYOND);
            assertThat(maxConnection).as("connection pending bytes exported, any layer").isLessThanOrEqualTo(BEYOND);
            assertWellFormed(receiver);
        }
    }

    private static Predicate<MetricPoint> ignoredBy(String function) {
        return p -> p.has(LAYER, HTTP2) && p.has(SIGNAL, STREAM_WINDOW_EXHAUSTED) && p.has(FUNCTION, function);
    }

    /** Ignored writes by call site, any layer, the call sites with none left out. */
    static Map<Object, Long> callSites(OtlpReceiver receiver) {
        return receiver.counterSumBy(IGNORED_WRITES, FUNCTION).entrySet().stream().filter(e -> e.getValue() > 0)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }
}

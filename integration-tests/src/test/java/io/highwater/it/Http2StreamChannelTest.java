package io.highwater.it;

import io.highwater.it.apps.h2.H2WindowClient;
import io.highwater.it.apps.h2.H2cServer;
import io.highwater.it.support.AgentCli;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.Curl;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.Fidelity;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static io.highwater.it.GrpcCallNotReadyTest.values;
import static io.highwater.it.support.Contract.CONNECTIONS_BLOCKED;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_OLDEST_WAIT;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.HTTP2;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.SPAN_FOUND_AT_ATTACH;
import static io.highwater.it.support.Contract.SPAN_IGNORED_WRITES;
import static io.highwater.it.support.Contract.SPAN_WAIT_SECONDS;
import static io.highwater.it.support.Contract.SPAN_START_BYTES;
import static io.highwater.it.support.Contract.STREAM_PENDING_BYTES;
import static io.highwater.it.support.Contract.STREAM_WINDOW_EXHAUSTED;
import static io.highwater.it.support.Contract.URL_PATH;
import static io.highwater.it.support.Exports.above;
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
        return server(netty, receiver, true, total);
    }

    /** {@code withAgent} false: started without the agent, for an attach later. */
    private static ChildJvm server(String netty, OtlpReceiver receiver, boolean withAgent, long total,
                                   String... more) {
        Path dir = netty.equals("4.1") ? ItEnv.netty41Dir() : ItEnv.netty42Dir();
        ChildJvm.Builder b = ChildJvm.builder("h2c-" + netty).classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(dir)).mainClass(H2cServer.class)
                .jvmArg("-Xmx256m", "-XX:MaxDirectMemorySize=512m");
        if (withAgent) {
            b.jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint()));
        }
        ChildJvm child = b
                .args("--total", String.valueOf(total), "--chunk", String.valueOf(CHUNK),
                        "--beyond", String.valueOf(BEYOND))
                .args(more)
                .start();
        assertThat(child.awaitStdoutValue("NETTY-VERSION"))
                .isEqualTo(ItEnv.property("highwater.it.netty" + netty.replace(".", "") + ".version"));
        return child;
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

                int after = receiver.firstBatchCollectedFromNow();
                MetricPoint stream = receiver.awaitPoint("the h2c stream of /ignore",
                        metric(STREAM_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2) && p.has(URL_PATH, "/ignore"))
                                .and(fromBatch(after)));
                long pending = H2Checks.lastReading(child, "PENDING");
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
     * Attached late: the server ran without the agent, an application thread put 32 MiB into a stream channel behind
     * curl reading 200 KB/s and finished (the stream channel stays unwritable while its pile drains, and no transition
     * comes). Right after the attach the stream channel is found on its parent's event loop and tracked as if its
     * transition had been seen: its pending bytes within 10 % of what the stream channel itself counts, blocked with
     * its wait open, found at attach, and no write judged. When the writer then writes 64 more frames into it, each is
     * judged (the stream channel entered the Netty gate at discovery). Against the agent before this change nothing
     * of the stream is exported.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void anUnwritableStreamChannelIsFoundAtAttach(String netty) throws Exception {
        String function = H2cServer.class.getName() + "$StreamHandler.writeIgnoring";
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = server(netty, receiver, false, 32L << 20, "--keep-open", "true")) {
            try (Curl curl = Curl.h2PriorKnowledge(child.awaitListening(), "/ignore", "200k")) {
                Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
                assertThat(truth.get("beyond")).as("the writer piled up: %s", truth).isGreaterThan(1000);

                AgentCli.Result attach = AgentCli.run("attach", String.valueOf(child.pid()),
                        "otel.exporter.otlp.endpoint=" + receiver.endpoint(),
                        "otel.metric.export.interval=" + ExportServer.EXPORT_INTERVAL,
                        "otel.service.name=" + ExportServer.SERVICE_NAME, "otel.bsp.schedule.delay=100ms");
                assertThat(attach.exitCode()).as("%s", attach).isZero();

                MetricPoint stream = receiver.awaitPoint("the h2c stream after the attach",
                        metric(STREAM_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2)).and(above(0)));
                long pending = H2Checks.lastReading(child, "PENDING");
                assertThat(stream.batch()).as("found in the first exports after the attach").isLessThanOrEqualTo(2);
                assertThat(stream.attr(URL_PATH)).as("opened before the attach: its HEADERS were not seen")
                        .isEqualTo("unknown");
                Fidelity.record("h2c stream channel, attach after the writer finished, netty " + netty,
                        "stream channel's own pending (app)", pending, "stream pending bytes, first export",
                        stream.longValue());
                assertThat(pending).as("the pile is still there").isGreaterThan(1L << 20);
                assertThat((double) stream.longValue()).as("stream pending vs the stream channel's own %d", pending)
                        .isBetween(pending * 0.9, pending * 1.1);
                receiver.awaitPoint("the stream blocked in layer http2",
                        metric(CONNECTIONS_BLOCKED).and(p -> p.has(LAYER, HTTP2)).and(above(0)));
                receiver.awaitPoint("its wait open", metric(DRAIN_OLDEST_WAIT).and(p -> p.has(LAYER, HTTP2))
                        .and(above(0)));
                receiver.awaitFurtherMetricBatches(2);
                assertThat(receiver.counterPoints(IGNORED_WRITES))
                        .as("nothing was seen being written after the attach")
                        .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
                assertWellFormed(receiver);

                // the writer comes back to the stream it left: found at attach, the stream channel is in the Netty
                // gate as if its transition had been seen, so each of these writes is judged
                child.writeStdin("more 64\n");
                Map<String, Long> more = values(child.awaitStdoutValue("MORE"));
                receiver.awaitFurtherMetricBatches(2);
                long ignored = receiver.counterTotal(IGNORED_WRITES, ignoredBy(function));
                assertThat(ignored).as("ignored writes after the attach; the application saw %s", more)
                        .isBetween(more.get("beyond"), more.get("unwritable")).isPositive();
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> true)).as("of any call site or layer")
                        .isEqualTo(ignored);

                long pileBefore = H2Checks.lastReading(child, "PENDING");
                curl.giveUp();
                ReceivedSpan span = receiver.awaitSpan("the stream's episode",
                        s -> HTTP2.equals(s.attr(LAYER)) && Boolean.TRUE.equals(s.attr(SPAN_FOUND_AT_ATTACH)));
                assertThat(span.longAttr(SPAN_START_BYTES)).as("%s", span).isGreaterThan(1L << 20);
                assertThat(span.longAttr(SPAN_IGNORED_WRITES)).as("%s", span).isEqualTo(ignored);
                H2Checks.assertEndedUndelivered(span, pileBefore);
                assertThat(child.isAlive()).isTrue();
            }
        }
    }

    /**
     * One connection, two streams, and a real HTTP/2 client ({@link H2WindowClient}, Netty's own codec) that grants
     * each stream 1 MiB but leaves the connection's window at 65,535 bytes and gives nothing back: {@code /ignore}'s
     * writer (8 MiB, without looking) takes the whole connection window; {@code /respect}, opened after, can send
     * nothing whatever its own window, and its writer waits for writability. The connection window gauge is 0 exactly
     * when the flow controller's own window, read by the application on the event loop around the collection, is 0;
     * both streams count as blocked; the starved stream's pending bytes are exported under its path. Then the client
     * gives the windows back: the starved stream's episode records its wait (at least the time the test saw it
     * starve), with 0 ignored writes; the ignoring writer's writes are judged as with a slow socket (between the
     * application's own counts), none of the respecting writer's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void oneStreamExhaustsTheConnectionWindowAndTheOtherStarves(String netty) throws Exception {
        String ignoring = H2cServer.class.getName() + "$StreamHandler.writeIgnoring";
        try (OtlpReceiver receiver = OtlpReceiver.start(); ChildJvm server = server(netty, receiver, 8L << 20);
             ChildJvm client = H2Checks.windowClient(server.awaitListening())) {
            Map<String, Long> truth = values(server.awaitStdoutValue("SENT"));
            client.awaitStdout("the second stream opened", l -> l.startsWith("OPENED /respect"));
            server.awaitStdout("the respecting writer stopped", l -> l.startsWith("WAITING /respect"));
            long starvingSince = System.currentTimeMillis();

            int after = receiver.firstBatchCollectedFromNow();
            H2Checks.assertConnectionWindowExhausted(receiver, server, after,
                    "h2c connection window exhausted by one stream, netty " + netty);
            receiver.awaitPoint("both streams blocked in layer http2", metric(CONNECTIONS_BLOCKED)
                    .and(p -> p.has(LAYER, HTTP2) && p.longValue() == 2).and(fromBatch(after)));
            MetricPoint starved = receiver.awaitPoint("the starved stream", metric(STREAM_PENDING_BYTES)
                    .and(p -> p.has(LAYER, HTTP2) && p.has(URL_PATH, "/respect")).and(fromBatch(after)));
            assertThat(starved.longValue()).as("what the respecting writer wrote before it stopped, none sent")
                    .isPositive().isLessThanOrEqualTo(128L * KIB);
            long starvedFor = System.currentTimeMillis() - starvingSince;

            client.writeStdin("release\n");
            client.awaitStdout("/respect complete", l -> l.startsWith("DONE 5 "));
            ReceivedSpan span = receiver.awaitSpan("the starved stream's episode",
                    s -> HTTP2.equals(s.attr(LAYER)) && "/respect".equals(s.attr(URL_PATH)));
            assertThat(span.doubleAttr(SPAN_WAIT_SECONDS)).as("%s", span)
                    .isGreaterThanOrEqualTo(starvedFor / 1000.0);
            assertThat(span.longAttr(SPAN_IGNORED_WRITES)).as("%s", span).isZero();

            receiver.awaitFurtherMetricBatches(2);
            long ignored = receiver.counterTotal(IGNORED_WRITES, ignoredBy(ignoring));
            assertThat(ignored).as("ignored writes of %s; the application saw %s", ignoring, truth)
                    .isBetween(truth.get("beyond") - 16, truth.get("unwritable"));
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> true))
                    .as("ignored writes of any call site and layer: the respecting writer's are none").isEqualTo(ignored);
            assertWellFormed(receiver);
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

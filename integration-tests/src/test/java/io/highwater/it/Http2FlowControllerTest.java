package io.highwater.it;

import io.highwater.it.apps.h2.H2DirectServer;
import io.highwater.it.apps.h2.H2WindowClient;
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
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.HTTP2;
import static io.highwater.it.support.Contract.HTTP2_CONNECTION_WINDOW;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.SPAN_FOUND_AT_ATTACH;
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
 * A real Netty h2c server whose {@code Http2ConnectionHandler} subclass writes DATA frames through the HTTP/2 encoder
 * itself, with no stream channel ({@link H2DirectServer}: the style of Vert.x, Armeria and hand-written handlers), on
 * Netty 4.1 and 4.2, driven by {@code curl --http2-prior-knowledge --limit-rate}. Its backlog sits in Netty's remote
 * flow controller only; the ground truth is the flow controller itself ({@code isWritable(stream)}, the stream's
 * {@code pendingBytes}, the connection's window), read by the application on the event loop right before each write.
 */
class Http2FlowControllerTest {

    private static final int KIB = 1024;
    private static final int CHUNK = 16 * KIB;
    /** The agent's mark for flow-controller streams (64 KiB) plus the default tolerance (one mark). */
    private static final long BEYOND = 2 * 64 * KIB;

    private static ChildJvm server(String netty, OtlpReceiver receiver, long total, String... more) {
        return server(netty, receiver, true, total, more);
    }

    /** {@code withAgent} false: started without the agent, for an attach later. */
    private static ChildJvm server(String netty, OtlpReceiver receiver, boolean withAgent, long total,
                                   String... more) {
        Path dir = netty.equals("4.1") ? ItEnv.netty41Dir() : ItEnv.netty42Dir();
        ChildJvm.Builder b = ChildJvm.builder("h2-direct-" + netty).classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(dir)).mainClass(H2DirectServer.class)
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

    /**
     * The application's readings of {@code prefix} ({@code PREFIX value millis}) just before and just after
     * {@code timeUnixNano} (an exported point's collection time): {@code {before, after}}.
     */
    static long[] around(OtlpReceiver receiver, ChildJvm child, String prefix, long timeUnixNano) {
        long at = timeUnixNano / 1_000_000;
        // the application prints every 200 ms: wait for its first reading after the point's
        receiver.await("a " + prefix + " reading after " + at, () -> child.stdout().stream()
                .filter(l -> l.startsWith(prefix + " "))
                .anyMatch(l -> Long.parseLong(l.trim().split(" ")[2]) > at));
        long before = -1;
        long after = -1;
        for (String line : child.stdout()) {
            if (!line.startsWith(prefix + " ")) {
                continue;
            }
            String[] f = line.trim().split(" ");
            long v = Long.parseLong(f[1]);
            long t = Long.parseLong(f[2]);
            if (t <= at) {
                before = v;
            } else if (after < 0) {
                after = v;
            }
        }
        if (before < 0 || after < 0) {
            throw new AssertionError("no " + prefix + " readings around " + at + ":\n" + child.transcript());
        }
        return new long[] {before, after};
    }

    private static Predicate<MetricPoint> ignoredBy(String function) {
        return p -> p.has(LAYER, HTTP2) && p.has(SIGNAL, STREAM_WINDOW_EXHAUSTED) && p.has(FUNCTION, function);
    }

    /**
     * An application task on the event loop writes bursts of DATA frames through {@code encoder().writeData} without
     * asking the flow controller, behind curl reading 200 KB/s: each write made while the flow controller said the
     * stream was not writable, with more than the tolerance queued for it, is one ignored write of the application's
     * method (the same thread read the same state just before: the counts are equal); the stream's pending bytes
     * follow the flow controller's own count, under the request's path; the connection's window is the flow
     * controller's; no write counts in the netty layer as well.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void encoderWritesIntoAStreamThatSaidStopAreIgnoredWrites(String netty) throws Exception {
        String function = H2DirectServer.class.getName() + "$DirectHandler.writeIgnoring";
        try (OtlpReceiver receiver = OtlpReceiver.start(); ChildJvm child = server(netty, receiver, 48L << 20)) {
            try (Curl curl = Curl.h2PriorKnowledge(child.awaitListening(), "/ignore", "200k")) {
                Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
                long beyond = truth.get("beyond");
                assertThat(beyond).as("writes with more than %d bytes queued: %s", BEYOND, truth).isGreaterThan(1000);

                int after = receiver.firstBatchCollectedFromNow();
                MetricPoint stream = receiver.awaitPoint("the h2 stream of /ignore",
                        metric(STREAM_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2) && p.has(URL_PATH, "/ignore"))
                                .and(fromBatch(after)));
                // the writer is done: the pile only drains, so the agent's reading lies between the application's
                // readings just before and just after it (Netty's count read from another thread: 5 % either way)
                long[] pending = around(receiver, child, "PENDING", stream.timeUnixNano());
                assertThat((double) stream.longValue())
                        .as("stream pending vs the flow controller's own %d before and %d after", pending[0], pending[1])
                        .isBetween(Math.min(pending[0], pending[1]) * 0.95, Math.max(pending[0], pending[1]) * 1.05);
                receiver.awaitPoint("the connection's http2 share",
                        metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2)).and(fromBatch(after)));
                // the stream waits for curl: blocked, its wait open (the writer is done, the pile drains at 200 KB/s)
                receiver.awaitPoint("the stream blocked in layer http2",
                        metric(CONNECTIONS_BLOCKED).and(p -> p.has(LAYER, HTTP2)).and(above(0)).and(fromBatch(after)));
                receiver.awaitPoint("its wait open",
                        metric(DRAIN_OLDEST_WAIT).and(p -> p.has(LAYER, HTTP2)).and(above(0)).and(fromBatch(after)));
                MetricPoint window = receiver.awaitPoint("the connection window",
                        metric(HTTP2_CONNECTION_WINDOW).and(fromBatch(after)));
                long[] appWindow = around(receiver, child, "WINDOW", window.timeUnixNano());
                // written out and given back as curl reads (200 KB/s): within what 200 ms of that moves
                assertThat(window.longValue())
                        .as("connection window vs the flow controller's own %d before and %d after", appWindow[0],
                                appWindow[1])
                        .isBetween(Math.min(appWindow[0], appWindow[1]) - (256L << 10),
                                Math.max(appWindow[0], appWindow[1]) + (256L << 10));

                receiver.awaitFurtherMetricBatches(2);
                long ignored = receiver.counterTotal(IGNORED_WRITES, ignoredBy(function));
                assertThat(ignored).as("ignored writes of %s; the application saw %s", function, truth)
                        .isEqualTo(beyond);
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, HTTP2)))
                        .as("http2 ignored writes of any call site").isEqualTo(ignored);
                assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, NETTY)))
                        .as("the flow controller's own writes into the connection are not the application's")
                        .isZero();
                assertThat(curl.isReading()).as("curl still reading: the stream was measured while it drained").isTrue();
                assertWellFormed(receiver);
            }
        }
    }

    /**
     * Attached late: the server ran without the agent, its {@code /ignore} writer put 32 MiB into a stream behind curl
     * reading 200 KB/s and finished (nothing is written into that stream again; its pile only drains). Right after
     * the attach the stream is found on its connection's event loop: its pending bytes are exported within a tick or
     * two and lie between the flow controller's own {@code pendingBytes} read by the application just before and just
     * after the collection, it counts as blocked with its wait open, its episode says it was found at attach, and no
     * write is judged (none was seen). Against the agent before this change, no stream of {@code /ignore} is exported.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void aStreamAlreadyHoldingItsPileIsFoundAtAttach(String netty) throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = server(netty, receiver, false, 32L << 20)) {
            try (Curl curl = Curl.h2PriorKnowledge(child.awaitListening(), "/ignore", "200k")) {
                Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
                assertThat(truth.get("beyond")).as("the writer piled up: %s", truth).isGreaterThan(1000);

                AgentCli.Result attach = AgentCli.run("attach", String.valueOf(child.pid()),
                        "otel.exporter.otlp.endpoint=" + receiver.endpoint(),
                        "otel.metric.export.interval=" + ExportServer.EXPORT_INTERVAL,
                        "otel.service.name=" + ExportServer.SERVICE_NAME, "otel.bsp.schedule.delay=100ms");
                assertThat(attach.exitCode()).as("%s", attach).isZero();

                MetricPoint stream = receiver.awaitPoint("the h2 stream of /ignore after the attach",
                        metric(STREAM_PENDING_BYTES).and(p -> p.has(LAYER, HTTP2)).and(above(0)));
                assertThat(stream.batch()).as("found in the first exports after the attach").isLessThanOrEqualTo(2);
                assertThat(stream.attr(URL_PATH)).as("opened before the attach: its HEADERS were not seen")
                        .isEqualTo("unknown");
                long[] pending = around(receiver, child, "PENDING", stream.timeUnixNano());
                Fidelity.record("h2 attach after the writer finished, netty " + netty,
                        "flow controller pendingBytes (app, before/after)", pending[0],
                        "stream pending bytes, first export", stream.longValue());
                assertThat(pending[1]).as("the pile is still there after the collection").isGreaterThan(1L << 20);
                assertThat((double) stream.longValue())
                        .as("stream pending vs the flow controller's own %d before and %d after", pending[0], pending[1])
                        .isBetween(Math.min(pending[0], pending[1]) * 0.95, Math.max(pending[0], pending[1]) * 1.05);
                receiver.awaitPoint("the stream blocked in layer http2",
                        metric(CONNECTIONS_BLOCKED).and(p -> p.has(LAYER, HTTP2)).and(above(0)));
                receiver.awaitPoint("its wait open", metric(DRAIN_OLDEST_WAIT).and(p -> p.has(LAYER, HTTP2))
                        .and(above(0)));
                receiver.awaitFurtherMetricBatches(2);
                assertThat(receiver.counterPoints(IGNORED_WRITES))
                        .as("nothing was seen being written after the attach")
                        .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
                assertWellFormed(receiver);

                // curl gives up: the stream's episode ends (Netty cancels the stream), and says it began before the
                // attach, with the pile it was found with
                long pileBefore = H2Checks.lastReading(child, "PENDING");
                curl.giveUp();
                ReceivedSpan span = receiver.awaitSpan("the stream's episode",
                        s -> HTTP2.equals(s.attr(LAYER)) && Boolean.TRUE.equals(s.attr(SPAN_FOUND_AT_ATTACH)));
                assertThat(span.longAttr(SPAN_START_BYTES)).as("%s", span).isGreaterThan(1L << 20);
                H2Checks.assertEndedUndelivered(span, pileBefore);
                assertThat(child.isAlive()).isTrue();
            }
        }
    }

    /**
     * One connection, two streams, and a real HTTP/2 client ({@link H2WindowClient}, Netty's own codec) that grants
     * each stream 1 MiB but leaves the connection's window at 65,535 bytes and gives nothing back: {@code /ignore}'s
     * writer takes the whole connection window and keeps writing; {@code /respect}, opened after, is never writable.
     * Here the stop comes from the connection window, not the socket: the connection window gauge is 0 as the flow
     * controller's own, and the ignored writes are exactly the application's writes made while Netty said not writable
     * with more than the tolerance queued; the respecting writer is never called ignoring. Then the client gives the
     * windows back and both responses complete.
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void oneStreamExhaustsTheConnectionWindow(String netty) throws Exception {
        String function = H2DirectServer.class.getName() + "$DirectHandler.writeIgnoring";
        try (OtlpReceiver receiver = OtlpReceiver.start(); ChildJvm server = server(netty, receiver, 8L << 20);
             ChildJvm client = H2Checks.windowClient(server.awaitListening())) {
            Map<String, Long> truth = values(server.awaitStdoutValue("SENT"));
            assertThat(truth.get("beyond")).as("writes with more than %d bytes queued: %s", BEYOND, truth)
                    .isGreaterThan(400);
            client.awaitStdout("the second stream opened", l -> l.startsWith("OPENED /respect"));
            server.awaitStdout("the respecting writer stopped", l -> l.startsWith("WAITING /respect"));

            int after = receiver.firstBatchCollectedFromNow();
            H2Checks.assertConnectionWindowExhausted(receiver, server, after,
                    "h2 direct writer, connection window exhausted by one stream, netty " + netty);
            receiver.awaitPoint("the pile of /ignore", metric(STREAM_PENDING_BYTES)
                    .and(p -> p.has(LAYER, HTTP2) && p.has(URL_PATH, "/ignore")).and(above(4L << 20))
                    .and(fromBatch(after)));

            client.writeStdin("release\n");
            client.awaitStdout("/respect complete", l -> l.startsWith("DONE 5 "));
            receiver.awaitFurtherMetricBatches(2);
            long ignored = receiver.counterTotal(IGNORED_WRITES, ignoredBy(function));
            assertThat(ignored).as("ignored writes of %s; the application saw %s", function, truth)
                    .isEqualTo(truth.get("beyond"));
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> true))
                    .as("ignored writes of any call site and layer: the respecting writer's are none").isEqualTo(ignored);
            assertWellFormed(receiver);
        }
    }

    /**
     * A handler that writes while the flow controller says its stream is writable and resumes on the flow
     * controller's {@code writabilityChanged}: no ignored write on any layer, and the stream never held more than the
     * agent's mark (the application's own maximum, read before each write).
     */
    @ParameterizedTest
    @ValueSource(strings = {"4.1", "4.2"})
    void aWriterThatAsksTheFlowControllerIgnoresNothing(String netty) throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ChildJvm child = server(netty, receiver, 8L << 20,
                "--sndbuf", String.valueOf(64 * KIB))) {
            try (Curl curl = Curl.h2PriorKnowledge(child.awaitListening(), "/respect", "1m")) {
                Map<String, Long> truth = values(child.awaitStdoutValue("SENT"));
                assertThat(curl.awaitExit()).as("curl's exit code").isZero();
                assertThat(truth.get("waits")).as("the writer met the flow controller's stop: %s", truth)
                        .isPositive();
                assertThat(truth.get("maxpending")).as("the most the flow controller held: %s", truth)
                        .isLessThanOrEqualTo(64L * KIB);
                receiver.awaitFurtherMetricBatches(2);
                assertThat(receiver.counterPoints(IGNORED_WRITES))
                        .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
                assertWellFormed(receiver);
            }
        }
    }
}

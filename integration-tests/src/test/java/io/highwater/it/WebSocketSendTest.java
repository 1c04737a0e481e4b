package io.highwater.it;

import io.highwater.it.apps.websocket.JettyJakartaWebSocket;
import io.highwater.it.apps.websocket.JettyWebSocket;
import io.highwater.it.apps.websocket.SpringLimits;
import io.highwater.it.apps.websocket.TomcatWebSocket;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowWebSocket;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.SEND_PENDING;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.WEBSOCKET;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The websocket layer on real containers in child JVMs with the agent, against a real slow WebSocket client (the
 * JDK's, paced), with the ground truth printed by the apps: Tomcat 11's refusals of a send while the previous one is
 * pending, as the app counted them; Jetty 12's session queue, as the app reads it from Jetty's own field.
 */
class WebSocketSendTest {

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    static ListeningChild tomcat(OtlpReceiver receiver) {
        return tomcat(receiver, List.of());
    }

    static ListeningChild tomcat(OtlpReceiver receiver, List<Path> more) {
        return ListeningChild.start(ChildJvm.builder("tomcat-websocket").classPath(List.of(ItEnv.testClasses()))
                        .classPath(ChildJvm.jars(ItEnv.containerDir("tomcat11")))
                        .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.tomcat11ws"))))
                        .classPath(more)
                        .mainClass(TomcatWebSocket.class.getName())
                        .jvmArg("-Xmx256m")
                        .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint())),
                child -> assertThat(child.awaitStdoutValue("CONTAINER")).contains("Tomcat"));
    }

    static ListeningChild jetty(OtlpReceiver receiver) {
        return jetty(receiver, "-Xmx512m");
    }

    static ListeningChild jetty(OtlpReceiver receiver, String heap) {
        return ListeningChild.start(ChildJvm.builder("jetty-websocket").classPath(List.of(ItEnv.testClasses()))
                        .classPath(ChildJvm.jars(ItEnv.containerDir("jetty12")))
                        .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.jetty12ws"))))
                        .mainClass(JettyWebSocket.class.getName())
                        .jvmArg(heap)
                        .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint())),
                child -> assertThat(child.awaitStdoutValue("CONTAINER")).contains("12.1"));
    }

    private static Map<String, Long> values(String line) {
        Map<String, Long> out = new HashMap<>();
        for (String pair : line.trim().split(" ")) {
            int eq = pair.indexOf('=');
            out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return out;
    }

    private static Map<String, Long> truth(ListeningChild server) {
        List<String> lines = server.child.stdout().stream().filter(l -> l.startsWith("TRUTH ")).toList();
        assertThat(lines).as("ground truth lines of the app").isNotEmpty();
        return values(lines.get(lines.size() - 1).substring("TRUTH ".length()));
    }

    /** The latest count of drain waits per layer (printed: where the container's waits were seen). */
    private static Map<String, Long> drainWaits(OtlpReceiver receiver) {
        Map<String, Long> out = new HashMap<>();
        for (MetricPoint p : receiver.points(DRAIN_WAIT)) {
            out.merge(String.valueOf(p.attributes().get(LAYER)), p.longValue(), Math::max);
        }
        return out;
    }

    private static Predicate<MetricPoint> sendPending(String function) {
        return metric(IGNORED_WRITES).and(p -> p.has(LAYER, WEBSOCKET) && p.has(SIGNAL, SEND_PENDING)
                && p.has(FUNCTION, function));
    }

    /**
     * A Tomcat endpoint that sends async without waiting for the previous send's completion, 200 messages of 16 KiB
     * behind a client reading 1 MB/s: Tomcat refuses every send started while one is pending, and each refusal is
     * an ignored send of the app's method on layer websocket, recorded before the exception reached the app: the
     * count is the app's own count of refusals, the bytes those of the refused messages.
     */
    // the client only reads slowly: the test asks the server and the agent, not the client
    @SuppressWarnings("try")
    @Test
    void tomcatRefusalsOfASendWhileOneIsPendingAreIgnoredSendsOfTheAppsMethod() {
        String function = TomcatWebSocket.class.getName() + ".ignoring";
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = tomcat(receiver);
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/ignoring", 1_000_000)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("IGNORING-DONE"));
            long refused = done.get("refused");
            assertThat(done.get("sent")).isEqualTo(TomcatWebSocket.COUNT);
            assertThat(refused).as("sends Tomcat refused while one was pending").isGreaterThan(100);
            receiver.await("ignored sends counted up to the app's " + refused,
                    () -> receiver.counterTotal(IGNORED_WRITES, sendPending(function)) >= refused);
            receiver.awaitFurtherMetricBatches(1);
            assertThat(receiver.counterTotal(IGNORED_WRITES, sendPending(function))).isEqualTo(refused);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, WEBSOCKET)))
                    .as("websocket ignored sends of any site").isEqualTo(refused);
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> p.has(LAYER, WEBSOCKET)))
                    .isEqualTo(refused * TomcatWebSocket.MESSAGE);
            System.out.printf("FIGURES tomcat ignoring: %d refusals counted by the app, %d ignored sends exported;"
                            + " drain waits by layer %s%n", refused,
                    receiver.counterTotal(IGNORED_WRITES, sendPending(function)), drainWaits(receiver));
            assertWellFormed(receiver);
        }
    }

    /** Waiting for each send's {@code Future} before the next: every message arrives, nothing is ignored. */
    @Test
    void tomcatSendsThatWaitForTheirCompletionIgnoreNothing() {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = tomcat(receiver);
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/respecting", 1_000_000)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("RESPECTING-DONE"));
            assertThat(done.get("sent")).isEqualTo(TomcatWebSocket.COUNT);
            receiver.await("every message at the client", () -> client.messages() == TomcatWebSocket.COUNT);
            receiver.awaitFurtherMetricBatches(1);
            System.out.printf("FIGURES tomcat respecting: drain waits by layer %s%n", drainWaits(receiver));
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            // Tomcat holds one message in flight: the websocket share never exceeds one message and its frame header
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).filteredOn(p -> p.has(LAYER, WEBSOCKET))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p)
                            .isLessThanOrEqualTo(TomcatWebSocket.MESSAGE + 16));
            assertWellFormed(receiver);
        }
    }

    /**
     * A Jetty endpoint that sends 64 MiB in 8 KiB messages without waiting for completions, behind a client reading
     * 100 KB/s: Jetty queues them all in the session's flusher, on the heap. The connection's websocket share is
     * that queue's bytes (against the app's reading of Jetty's own queue), and every send made while the queue held
     * more than the tolerance (16 frames) is an ignored send of the app's method (against the app's own count).
     */
    @Test
    void jettyQueueIsTheConnectionsShareAndSendsIntoItAreIgnored() {
        jettyIgnoring("jetty", WebSocketSendTest::jetty, "/ignoring", "IGNORING-DONE",
                JettyWebSocket.class.getName() + ".ignoring");
    }

    /**
     * The same on Jetty's ee10 Jakarta container: {@code session.getAsyncRemote().sendBinary} of 8 KiB messages whose
     * futures the app never looks at. Jakarta's async sends reach the same session queue, so the existing Jetty path
     * sees them: the queue is the connection's share, the sends into it beyond the tolerance are ignored sends of
     * the app's Jakarta-calling method.
     */
    @Test
    void jettyEe10AsyncSendsIgnoringTheirFuturesPileUpInTheQueueAndAreIgnored() {
        jettyIgnoring("jetty ee10 async", r -> WebSocketBlockingSendTest.jettyEe10(r, "-Dit.none=0", "1s"),
                "/async", "ASYNC-DONE", JettyJakartaWebSocket.class.getName() + ".async");
    }

    private static void jettyIgnoring(String label, Function<OtlpReceiver, ListeningChild> start, String path,
                                      String doneKey, String function) {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = start.apply(receiver);
             SlowWebSocket client = SlowWebSocket.connect(server.port, path, 100_000)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue(doneKey));
            long whileQueued = done.get("whileQueued");
            assertThat(whileQueued).as("sends the app made while Jetty's queue held frames")
                    .isGreaterThan(JettyWebSocket.COUNT / 2);

            int settled = receiver.firstBatchCollectedFromNow();
            Predicate<MetricPoint> share = metric(CONNECTION_PENDING_BYTES)
                    .and(p -> p.has(LAYER, WEBSOCKET) && p.has(SERVER_PORT, (long) server.port));
            MetricPoint held = receiver.awaitPoint("the connection's websocket share beyond 32 MiB",
                    share.and(above(32 * MIB)).and(fromBatch(settled)));
            receiver.awaitFurtherMetricBatches(1);
            Map<String, Long> truth = truth(server);
            // the client drains 100 KB/s: between the export and the app's next reading, at most a few hundred KB
            assertThat(held.longValue()).as("websocket share against the app's reading %s", truth)
                    .isBetween(truth.get("queuedBytes") - MIB, truth.get("queuedBytes") + 2 * MIB);

            receiver.awaitPoint("ignored sends of " + function, sendPending(function).and(above(0)));
            receiver.awaitFurtherMetricBatches(1);
            long ignored = receiver.counterTotal(IGNORED_WRITES, sendPending(function));
            // the app reads the queue just before its call, the agent inside it: the flusher may take a frame between
            assertThat(ignored).as("ignored sends; the app sent %d while queued", whileQueued)
                    .isBetween(whileQueued - 64, whileQueued + 64);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, WEBSOCKET))).isEqualTo(ignored);
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> p.has(LAYER, WEBSOCKET)))
                    .isEqualTo(ignored * JettyWebSocket.MESSAGE);
            System.out.printf("FIGURES %s ignoring: websocket share %d B (app's reading %d B), ignored sends %d"
                    + " (app: %d while queued)%n", label, held.longValue(), truth.get("queuedBytes"), ignored, whileQueued);
            // the client goes away: Jetty's connection closes, and the episode's span tells the share at its peak
            client.goAway();
            ReceivedSpan span = receiver.awaitSpan("the websocket episode of server port " + server.port,
                    sp -> sp.name().equals("backpressure websocket") && sp.has(SERVER_PORT, (long) server.port));
            assertThat(span.longAttr("backpressure.share.websocket.bytes")).as("websocket share at the peak")
                    .isGreaterThanOrEqualTo(held.longValue());
            assertThat(span.attr(FUNCTION)).isEqualTo(function);
            System.out.printf("FIGURES %s span: websocket share %d B at the peak, %d ignored sends%n", label,
                    span.longAttr("backpressure.share.websocket.bytes"), span.longAttr("backpressure.ignored.writes"));
            assertWellFormed(receiver);
        }
    }

    /**
     * Spring's {@code ConcurrentWebSocketSessionDecorator} (buffer size limit 1 MiB) over a Tomcat session, four
     * threads sending behind a client reading 100 KB/s: the decorator buffers what the other threads send while one
     * is blocked in Tomcat's send, until the buffer exceeds its limit and Spring throws
     * {@code SessionLimitExceededException}. The episode's span ends with Spring's reason as its error, and its
     * peak is the decorator's buffer: at least Spring's own figure in its reason, and at most the few messages the
     * other senders add before Spring's flag stops them.
     */
    // the client only reads slowly: the test asks the server and the agent, not the client
    @SuppressWarnings("try")
    @Test
    void springDecoratorsBufferIsTheShareAndItsLimitEndsTheEpisode() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = tomcat(receiver, ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.springws"))));
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/spring", 100_000)) {
            Map<String, Long> limit = values(server.child.awaitStdoutValue("SPRING-LIMIT"));
            assertThat(limit.get("status")).as("Spring's SESSION_NOT_RELIABLE").isEqualTo(4500);
            long buffered = limit.get("atLimit");
            assertThat(buffered).as("Spring's figure in its reason").isGreaterThan(SpringLimits.BUFFER_LIMIT);
            ReceivedSpan span = receiver.awaitSpan("the websocket episode ended by Spring's limit",
                    sp -> sp.name().equals("backpressure websocket")
                            && sp.span().getStatus().getMessage().contains("exceeds the allowed limit"));
            assertThat(span.longAttr(SERVER_PORT)).as("the session's connection").isEqualTo(server.port);
            long share = span.longAttr("backpressure.pending.peak_bytes");
            // the buffer held at least Spring's figure; the other senders keep adding to it until Spring's flag is
            // set, which on a loaded machine can be many more messages (measured: from 14 messages to 38 MiB more):
            // at most what the buffer held when the sender that met the limit printed it, and a few messages
            long afterwards = Math.max(buffered, limit.get("bufferSize"));
            assertThat(share).as("websocket peak on the span; Spring's buffer at the limit: %d, then %d", buffered,
                    afterwards).isBetween(buffered, afterwards + 32L * TomcatWebSocket.MESSAGE);
            assertThat(span.span().getStatus().getMessage()).contains("spring websocket session limit exceeded");
            System.out.printf("FIGURES spring decorator: share %d B on the span (Spring's buffer %d B, limit %d B);"
                    + " status \"%s\"%n", share, buffered, SpringLimits.BUFFER_LIMIT, span.span().getStatus().getMessage());
            assertWellFormed(receiver);
        }
    }

    /**
     * The ground truth of what Jetty's queue costs: a sender that never waits, without end, fills a 256 MiB heap
     * ({@code OutOfMemoryError} in the sending thread). Before it does, the connection's websocket share the agent
     * exported has risen beyond 64 MiB, and the last share exported is at most what the app read from Jetty's queue
     * at the OOM: the pile-up was on the dashboard before the crash.
     */
    // the client only reads slowly: the test asks the server and the agent, not the client
    @SuppressWarnings("try")
    @Test
    void jettyQueueOfASenderThatNeverWaitsFillsTheHeapAndTheShareShowsItFirst() {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = jetty(receiver, "-Xmx256m");
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/flood", 100_000)) {
            Predicate<MetricPoint> share = metric(CONNECTION_PENDING_BYTES)
                    .and(p -> p.has(LAYER, WEBSOCKET) && p.has(SERVER_PORT, (long) server.port));
            // the app says so, or, when even that failed, the JVM does for the sending thread; a heap that fills can
            // take the collector a while to give up on, on a loaded machine
            server.child.awaitOutput("the app's OutOfMemoryError", "OOM"::equals,
                    l -> l.contains("\"flood-sender\" java.lang.OutOfMemoryError"), Duration.ofSeconds(180));
            List<String> flood = server.child.stdout().stream().filter(l -> l.startsWith("FLOOD ")).toList();
            // the last reading before the OOM, and at most 1,024 sends more until it
            long lastRead = values(flood.get(flood.size() - 1).substring("FLOOD ".length())).get("queued");
            long truth = (lastRead + 1024) * JettyWebSocket.MESSAGE;
            assertThat(lastRead * JettyWebSocket.MESSAGE).as("Jetty's queue before the OOM").isGreaterThan(64 * MIB);
            long peak = receiver.points().stream().filter(share).mapToLong(MetricPoint::longValue).max().orElse(0);
            assertThat(peak).as("the largest websocket share exported before the OOM; the queue held %d B then", truth)
                    .isGreaterThan(64 * MIB).isLessThanOrEqualTo(truth);
            System.out.printf("FIGURES jetty flood: OOM with %d B queued at the app's last reading; largest websocket"
                    + " share exported before it %d B%n", lastRead * JettyWebSocket.MESSAGE, peak);
        }
    }

    /** Waiting for each send's callback before the next: the queue never backs up, nothing is ignored. */
    @Test
    void jettySendsThatWaitForTheirCallbackIgnoreNothing() {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = jetty(receiver);
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/respecting", 1_000_000)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("RESPECTING-DONE"));
            long sent = done.get("sent");
            assertThat(sent).isEqualTo(JettyWebSocket.COUNT / 16);
            receiver.await("every message at the client", () -> client.messages() == sent);
            receiver.awaitMetricBatches(receiver.metricBatchCount() + 1);
            receiver.awaitFurtherMetricBatches(1);
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).filteredOn(p -> p.has(LAYER, WEBSOCKET))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isLessThanOrEqualTo(JettyWebSocket.MESSAGE));
            assertWellFormed(receiver);
        }
    }
}

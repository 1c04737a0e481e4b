package io.highwater.it;

import io.highwater.it.apps.websocket.JettyJakartaWebSocket;
import io.highwater.it.apps.websocket.JettyWebSocket;
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

import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.CONNECTION_TOTAL_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_STALLS;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SPAN_PENDING_BYTES;
import static io.highwater.it.support.Contract.SPAN_STALLED;
import static io.highwater.it.support.Contract.SPAN_WAIT_SECONDS;
import static io.highwater.it.support.Contract.WEBSOCKET;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tomcat 11's blocking sends ({@code RemoteEndpoint.Basic.sendBinary}, 64 KiB messages) in a child JVM with the
 * agent, against the JDK's WebSocket client reading at a pace or not at all. The ground truth is the app's own
 * timing of each send call ({@code System.nanoTime()} around it) and, for a send that failed, the remainder of its
 * payload buffer, which Tomcat advances as the socket takes the bytes. The agent's stall threshold is 1 s (its timer
 * every 250 ms; 2 s for the paced reader), Tomcat's blocking send timeout 4 s, its socket send buffer 64 KiB (so that
 * a client reading 200 KB/s makes the sends wait after a few hundred KB rather than after the megabytes of an
 * auto-tuned buffer; the fast reader's is auto-tuned).
 */
class WebSocketBlockingSendTest {

    private static final String FUNCTION_NAME = TomcatWebSocket.class.getName() + ".basic";
    /** Frame header of a 64 KiB binary frame from the server: 2 bytes and an 8-byte length. */
    private static final long HEADER = 10;

    static ListeningChild tomcat(OtlpReceiver receiver) {
        return tomcat(receiver, "-Dit.tomcat.txBufSize=65536", "1s");
    }

    static ListeningChild tomcat(OtlpReceiver receiver, String bufferArg, String stallThreshold) {
        return ListeningChild.start(ChildJvm.builder("tomcat-websocket-basic").classPath(List.of(ItEnv.testClasses()))
                        .classPath(ChildJvm.jars(ItEnv.containerDir("tomcat11")))
                        .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.tomcat11ws"))))
                        .mainClass(TomcatWebSocket.class.getName())
                        .jvmArg("-Xmx256m")
                        .jvmArg(bufferArg)
                        .jvmArg("-javaagent:" + ItEnv.agentJar() + "="
                                + ExportServer.agentArgs(receiver.endpoint(), "stall.threshold=" + stallThreshold)),
                child -> assertThat(child.awaitStdoutValue("CONTAINER")).contains("Tomcat"));
    }

    static ListeningChild jetty(OtlpReceiver receiver, String bufferArg, String stallThreshold) {
        return ListeningChild.start(ChildJvm.builder("jetty-websocket-basic").classPath(List.of(ItEnv.testClasses()))
                        .classPath(ChildJvm.jars(ItEnv.containerDir("jetty12")))
                        .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.jetty12ws"))))
                        .mainClass(JettyWebSocket.class.getName())
                        .jvmArg("-Xmx256m")
                        .jvmArg(bufferArg)
                        .jvmArg("-javaagent:" + ItEnv.agentJar() + "="
                                + ExportServer.agentArgs(receiver.endpoint(), "stall.threshold=" + stallThreshold)),
                child -> assertThat(child.awaitStdoutValue("CONTAINER")).contains("12.1"));
    }

    /** Jetty 12's ee10 Jakarta WebSocket container (programmatic endpoints, {@link JettyJakartaWebSocket}). */
    static ListeningChild jettyEe10(OtlpReceiver receiver, String bufferArg, String stallThreshold) {
        return ListeningChild.start(ChildJvm.builder("jetty-ee10-websocket").classPath(List.of(ItEnv.testClasses()))
                        .classPath(ChildJvm.jars(ItEnv.containerDir("jetty12")))
                        .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.jetty12ws"))))
                        .classPath(ChildJvm.jars(Paths.get(ItEnv.property("highwater.it.jetty12ee10ws"))))
                        .mainClass(JettyJakartaWebSocket.class.getName())
                        .jvmArg("-Xmx256m")
                        .jvmArg(bufferArg)
                        .jvmArg("-javaagent:" + ItEnv.agentJar() + "="
                                + ExportServer.agentArgs(receiver.endpoint(), "stall.threshold=" + stallThreshold)),
                child -> assertThat(child.awaitStdoutValue("CONTAINER")).contains("12.1").contains("ee10 jakarta"));
    }

    private static Map<String, Long> values(String line) {
        Map<String, Long> out = new HashMap<>();
        for (String pair : line.trim().split(" ")) {
            int eq = pair.indexOf('=');
            out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return out;
    }

    /** The latest (cumulative) drain-wait histogram point of {@code layer}, or null. */
    private static MetricPoint drainWait(OtlpReceiver receiver, String layer) {
        MetricPoint latest = null;
        for (MetricPoint p : receiver.points(DRAIN_WAIT)) {
            if (p.has(LAYER, layer)) {
                latest = p;
            }
        }
        return latest;
    }

    /** Count and total seconds of the drain waits per layer (printed: which layer saw the container's waits). */
    private static Map<String, String> drainWaits(OtlpReceiver receiver) {
        Map<String, MetricPoint> latest = new TreeMap<>();
        for (MetricPoint p : receiver.points(DRAIN_WAIT)) {
            latest.put(String.valueOf(p.attributes().get(LAYER)), p);
        }
        Map<String, String> out = new TreeMap<>();
        latest.forEach((layer, p) -> out.put(layer, p.longValue() + " waits, " + String.format("%.3f s", p.sum())));
        return out;
    }

    /** The largest share each layer showed for the connection of {@code port}, and the largest total. */
    private static Map<String, Long> shares(OtlpReceiver receiver, int port) {
        Map<String, Long> out = new TreeMap<>();
        for (MetricPoint p : receiver.points(CONNECTION_PENDING_BYTES)) {
            if (p.has(SERVER_PORT, (long) port)) {
                out.merge(String.valueOf(p.attributes().get(LAYER)), p.longValue(), Math::max);
            }
        }
        for (MetricPoint p : receiver.points(CONNECTION_TOTAL_PENDING_BYTES)) {
            if (p.has(SERVER_PORT, (long) port)) {
                out.merge("total", p.longValue(), Math::max);
            }
        }
        return out;
    }

    private static long websocketWaitCount(OtlpReceiver receiver) {
        MetricPoint p = drainWait(receiver, WEBSOCKET);
        return p == null ? 0 : p.longValue();
    }

    private static double websocketWaitSeconds(OtlpReceiver receiver) {
        MetricPoint p = drainWait(receiver, WEBSOCKET);
        return p == null ? 0 : p.sum();
    }

    /**
     * A client that stops reading after the first bytes: the sender's {@code sendBinary} blocks until Tomcat's 4 s
     * timeout fails it. The websocket layer shows that wait: one stall, an episode span that names the app's method,
     * says stalled, lasted what the app measured around its send, and ended with the bytes of the message the socket
     * never took (the app's payload remainder); the connection's websocket share while blocked was that remainder,
     * and the drain-wait histogram's total is the app's total time blocked.
     */
    @Test
    void aSendBlockedByAClientThatStopsReadingIsAStalledWaitOfItsConnection() {
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = tomcat(receiver);
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/basic?count=100000", 1)) {
            Map<String, Long> failed = values(server.child.awaitStdoutValue("BASIC-FAILED"));
            Map<String, Long> done = values(server.child.awaitStdoutValue("BASIC-DONE"));
            long blockedNanos = failed.get("nanos");
            long unsent = failed.get("unsent");
            assertThat(blockedNanos).as("the failed send blocked until Tomcat's timeout")
                    .isGreaterThanOrEqualTo(TomcatWebSocket.BASIC_TIMEOUT_MS * 1_000_000 - 50_000_000);
            assertThat(unsent).as("what the socket never took of the message").isBetween(1L,
                    (long) TomcatWebSocket.BASIC_MESSAGE);

            ReceivedSpan span = receiver.awaitSpan("the websocket episode of server port " + server.port,
                    sp -> sp.name().equals("backpressure websocket") && sp.has(SERVER_PORT, (long) server.port));
            assertThat(span.attr(FUNCTION)).as("the application's call").isEqualTo(FUNCTION_NAME);
            assertThat(span.attr(SPAN_STALLED)).isEqualTo(true);
            assertThat(span.longAttr(SPAN_PENDING_BYTES)).as("bytes left at the end; the app's remainder %d", unsent)
                    .isBetween(unsent, unsent + HEADER);
            double spanWait = span.doubleAttr(SPAN_WAIT_SECONDS);
            // the episode's waits: the failed write's, which lasts until Tomcat's timeout, and those of the sends
            // before it that the timer saw (the client read a few bytes first). The agent times Tomcat's write inside
            // the app's call, which after the timeout also tries to send a close frame before it throws: the span's
            // wait is about the timeout (which Tomcat counts from just before the write) and at most the app's total
            double appSeconds = done.get("blockedNanos") / 1e9;
            assertThat(spanWait).as("the span's wait against Tomcat's timeout, the app's failed send %d ns and all"
                    + " its blocked sends %s s", blockedNanos, appSeconds)
                    .isBetween(TomcatWebSocket.BASIC_TIMEOUT_MS / 1e3 - 0.2, appSeconds + 0.01);

            receiver.awaitFurtherMetricBatches(1);
            Predicate<MetricPoint> share = metric(CONNECTION_PENDING_BYTES)
                    .and(p -> p.has(LAYER, WEBSOCKET) && p.has(SERVER_PORT, (long) server.port));
            List<MetricPoint> shares = receiver.points().stream().filter(share).toList();
            assertThat(shares).as("websocket shares of the blocked connection").isNotEmpty()
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p)
                            .isBetween(1L, TomcatWebSocket.BASIC_MESSAGE + HEADER));
            assertThat(shares).as("the share while blocked: the unsent remainder %d", unsent)
                    .anySatisfy(p -> assertThat(p.longValue()).isBetween(unsent, unsent + HEADER));
            assertThat(receiver.counterTotal(DRAIN_STALLS, p -> p.has(LAYER, WEBSOCKET))).as("stalls")
                    .isEqualTo(1);
            double histogram = websocketWaitSeconds(receiver);
            // the app's clock runs around its whole send, the agent's around Tomcat's write inside it: on a loaded
            // 2-core machine Tomcat's work before and after the write (the message part's semaphore, the frame
            // header, the close frame after the timeout) took up to 0.29 s more in CI on JDK 25
            assertThat(histogram).as("drain-wait total against the app's %s s in %d sends", appSeconds,
                    done.get("blocked")).isBetween(appSeconds - 0.5, appSeconds + 0.01);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, WEBSOCKET))).isZero();
            // no other layer counts the same wait or bytes: the servlet layer's blocking-write advice is not on
            // Tomcat's asynchronous write path, and the socket layer leaves Tomcat's channels to Tomcat
            assertThat(drainWaits(receiver).keySet()).as("layers with drain waits").containsOnly(WEBSOCKET);
            Map<String, Long> byLayer = shares(receiver, server.port);
            assertThat(byLayer.keySet()).as("layers with a share of the connection").containsOnly(WEBSOCKET, "total");
            assertThat(byLayer.get("total")).as("the connection's total").isEqualTo(byLayer.get(WEBSOCKET));
            System.out.printf("FIGURES tomcat basic, client stops reading: app blocked %d ns in the failed send, %d B"
                            + " unsent; span wait %.3f s, stalled %s, bytes at the end %d, function %s; websocket"
                            + " histogram %d waits %.3f s (app: %d sends >= 1 ms, %.3f s); drain waits by layer %s;"
                            + " largest shares of the connection %s; the client received %d B%n", blockedNanos, unsent,
                    spanWait, span.attr(SPAN_STALLED), span.longAttr(SPAN_PENDING_BYTES), span.attr(FUNCTION),
                    websocketWaitCount(receiver), histogram, done.get("blocked"), appSeconds, drainWaits(receiver),
                    shares(receiver, server.port), client.bytes());
            assertWellFormed(receiver);
        }
    }

    /**
     * A client reading 200 KB/s: once the socket buffers are full, every send blocks for about the time the client
     * takes to read a message. The drain-wait histogram of layer websocket adds up to the app's own total of its
     * blocked sends (those of 1 ms or more), with at most as many waits, and no stall.
     */
    @Test
    void sendsBlockedByASlowReaderAreDrainWaitsAsLongAsTheAppMeasured() {
        int count = 24;
        // the stall threshold at 2 s (the timer every 500 ms): a reader paced at 200 KB/s on a loaded machine can
        // pause for a second (a send of 1.4 s measured), which is not the stall this test is about
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = tomcat(receiver, "-Dit.tomcat.txBufSize=65536", "2s");
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/basic?count=" + count, 200_000)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("BASIC-DONE"));
            assertThat(done.get("sent")).isEqualTo(count);
            long blocked = done.get("blocked");
            double appSeconds = done.get("blockedNanos") / 1e9;
            assertThat(blocked).as("sends the app measured blocked").isGreaterThan(3);
            receiver.await("the websocket waits counted", () -> websocketWaitCount(receiver) > 0);
            receiver.awaitFurtherMetricBatches(2);
            long waits = websocketWaitCount(receiver);
            double histogram = websocketWaitSeconds(receiver);
            assertThat(waits).as("websocket waits; the app's blocked sends %d", blocked).isBetween(1L, blocked);
            // each wait is Tomcat's write inside the app's call: never longer, and shorter by what the app's thread
            // spends around it, which on a loaded 2-core machine (load average near 20 while this was written) is up
            // to some 10 ms a send when the thread is preempted after the write returned; a send the app timed at
            // just over 1 ms may be just under it in the agent's view
            assertThat(histogram).as("drain-wait total against the app's %s s in %d sends", appSeconds, blocked)
                    .isBetween(appSeconds * 0.8 - 0.01 * blocked, appSeconds + 0.01);
            assertThat(receiver.counterTotal(DRAIN_STALLS, p -> p.has(LAYER, WEBSOCKET))).as("stalls").isZero();
            assertThat(receiver.points(CONNECTION_PENDING_BYTES)).filteredOn(p -> p.has(LAYER, WEBSOCKET))
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p)
                            .isLessThanOrEqualTo(TomcatWebSocket.BASIC_MESSAGE + HEADER));
            System.out.printf("FIGURES tomcat basic, client at 200 KB/s: app %d of %d sends blocked >= 1 ms, %.3f s"
                            + " (longest %.3f s); websocket histogram %d waits %.3f s; drain waits by layer %s;"
                            + " largest shares of the connection %s; the client received %d B so far%n", blocked,
                    count, appSeconds, done.get("longestNanos") / 1e9, waits, histogram, drainWaits(receiver),
                    shares(receiver, server.port), client.bytes());
            assertWellFormed(receiver);
        }
    }

    /**
     * A client reading as fast as it can: the sends hardly block. The websocket layer records no more waits than the
     * app measured sends of 1 ms or more, and their total is at most the app's (a negative control: it passes
     * without the agent's blocking-send advice too; on a loaded 2-core machine some sends do take a few ms).
     */
    @Test
    void sendsToAFastReaderAreNoWaits() {
        int count = 96;
        // Tomcat's socket send buffer as the kernel tunes it, as in production: a 64 KiB one would make every send
        // wait for the client to take the previous message, however fast it reads
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = tomcat(receiver, "-Dit.none=0", "1s");
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/basic?count=" + count, 1L << 40)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("BASIC-DONE"));
            assertThat(done.get("sent")).isEqualTo(count);
            receiver.await("every message at the client", () -> client.messages() == count);
            receiver.awaitMetricBatches(receiver.metricBatchCount() + 1);
            receiver.awaitFurtherMetricBatches(1);
            long blocked = done.get("blocked");
            double appSeconds = done.get("blockedNanos") / 1e9;
            assertThat(websocketWaitCount(receiver)).as("websocket waits; the app's sends >= 1 ms: %d", blocked)
                    .isLessThanOrEqualTo(blocked);
            assertThat(websocketWaitSeconds(receiver)).isLessThanOrEqualTo(appSeconds + 0.01);
            assertThat(receiver.counterTotal(DRAIN_STALLS, p -> p.has(LAYER, WEBSOCKET))).isZero();
            System.out.printf("FIGURES tomcat basic, fast client: app %d of %d sends >= 1 ms (%.4f s); websocket"
                            + " histogram %d waits %.4f s; drain waits by layer %s%n", blocked, count, appSeconds,
                    websocketWaitCount(receiver), websocketWaitSeconds(receiver), drainWaits(receiver));
            assertWellFormed(receiver);
        }
    }

    // ---- Jetty 12: the session's send with a FutureCallback, then block() on it (what Jakarta's BasicRemote does)

    private static final String JETTY_FUNCTION = JettyWebSocket.class.getName() + ".basic";
    private static final String JETTY_EE10_FUNCTION = JettyJakartaWebSocket.class.getName() + ".basic";

    /**
     * Jetty, a client that stops reading after the first bytes: the sender's blocking send waits until the session's
     * 4 s write timeout fails it. The websocket layer shows that wait on the connection of Jetty's session: one stall,
     * an episode span that names the app's method, says stalled and lasted what the app measured around its send; the
     * drain-wait histogram's total is the app's total time blocked. The connection's websocket share while blocked is
     * Jetty's session queue (the app's own reading of it when its send failed: its sends are one at a time, so none)
     * and the frame its connection's {@code FrameFlusher} is writing: the part of the payload the socket never took
     * (the app's payload buffer's remainder), and no other layer has a share.
     */
    @Test
    void jettySendBlockedByAClientThatStopsReadingIsAStalledWaitOfItsConnection() {
        jettyStoppedReader("jetty basic", r -> jetty(r, "-Dit.jetty.txBufSize=65536", "1s"), JETTY_FUNCTION);
    }

    /**
     * The same on Jetty's ee10 Jakarta container: {@code session.getBasicRemote().sendBinary} blocks until the
     * session's idle timeout fails it, and the websocket layer shows that wait with the app's Jakarta-calling method.
     * (The ee10 remote endpoint hands its frames to the core session itself: without the advice on its own
     * {@code sendFrame}, no wait is seen.)
     */
    @Test
    void jettyEe10BasicSendBlockedByAClientThatStopsReadingIsAStalledWaitOfItsConnection() {
        jettyStoppedReader("jetty ee10 basic", r -> jettyEe10(r, "-Dit.jetty.txBufSize=65536", "1s"),
                JETTY_EE10_FUNCTION);
    }

    private static void jettyStoppedReader(String label, Function<OtlpReceiver, ListeningChild> start,
                                           String function) {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = start.apply(receiver);
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/basic?count=100000", 1)) {
            Map<String, Long> failed = values(server.child.awaitStdoutValue("BASIC-FAILED"));
            Map<String, Long> done = values(server.child.awaitStdoutValue("BASIC-DONE"));
            long blockedNanos = failed.get("nanos");
            long queuedBytes = failed.get("queued") * JettyWebSocket.BASIC_MESSAGE;
            long unsent = failed.get("unsent");
            assertThat(unsent).as("what the socket never took of the message").isBetween(1L,
                    (long) JettyWebSocket.BASIC_MESSAGE);
            assertThat(blockedNanos).as("the failed send blocked until Jetty's write timeout")
                    .isGreaterThanOrEqualTo(JettyWebSocket.BASIC_TIMEOUT_MS * 1_000_000 - 50_000_000);

            ReceivedSpan span = receiver.awaitSpan("the websocket episode of server port " + server.port,
                    sp -> sp.name().equals("backpressure websocket") && sp.has(SERVER_PORT, (long) server.port));
            assertThat(span.attr(FUNCTION)).as("the application's call").isEqualTo(function);
            assertThat(span.attr(SPAN_STALLED)).isEqualTo(true);
            assertThat(span.longAttr(SPAN_PENDING_BYTES)).as("bytes left at the end; the app's remainder %d", unsent)
                    .isEqualTo(queuedBytes + unsent);
            double spanWait = span.doubleAttr(SPAN_WAIT_SECONDS);
            double appSeconds = done.get("blockedNanos") / 1e9;
            assertThat(spanWait).as("the span's wait against Jetty's timeout, the app's failed send %d ns and all"
                    + " its blocked sends %s s", blockedNanos, appSeconds)
                    .isBetween(JettyWebSocket.BASIC_TIMEOUT_MS / 1e3 - 0.2, appSeconds + 0.01);

            receiver.awaitFurtherMetricBatches(1);
            // the connection's websocket share: Jetty's session queue (the app's sends are one at a time: empty) and
            // the frame its FrameFlusher is writing, whose payload the socket stopped taking at the app's remainder
            List<MetricPoint> shares = receiver.points().stream().filter(metric(CONNECTION_PENDING_BYTES)
                    .and(p -> p.has(LAYER, WEBSOCKET) && p.has(SERVER_PORT, (long) server.port))).toList();
            assertThat(shares).as("websocket shares of the blocked connection").isNotEmpty()
                    .allSatisfy(p -> assertThat(p.longValue()).as("%s", p)
                            .isBetween(1L, queuedBytes + JettyWebSocket.BASIC_MESSAGE));
            assertThat(shares).as("the share while blocked: the queue %d B and the unsent remainder %d B",
                    queuedBytes, unsent).anySatisfy(p -> assertThat(p.longValue()).isEqualTo(queuedBytes + unsent));
            Map<String, Long> byLayer = shares(receiver, server.port);
            assertThat(byLayer.keySet()).as("layers with a share of the connection").containsOnly(WEBSOCKET, "total");
            assertThat(byLayer.get("total")).as("the connection's total").isEqualTo(byLayer.get(WEBSOCKET));
            assertThat(receiver.counterTotal(DRAIN_STALLS, p -> p.has(LAYER, WEBSOCKET))).as("stalls")
                    .isEqualTo(1);
            double histogram = websocketWaitSeconds(receiver);
            // the failed send's wait is in it: its future waited for Jetty's write timeout at least (the app's own
            // reading of that send also holds Jetty's work around the wait, 0.3 s more on a loaded machine); the
            // app's other sends of 1 ms or more before it mostly spent that time in Jetty's sendFrame (writing the
            // frame inline), which is no wait
            assertThat(histogram).as("drain-wait total against Jetty's timeout, the app's failed send %d ns and its"
                    + " %s s in %d sends", blockedNanos, appSeconds, done.get("blocked"))
                    .isBetween(JettyWebSocket.BASIC_TIMEOUT_MS / 1e3 - 0.2, appSeconds + 0.01);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, WEBSOCKET))).isZero();
            assertThat(drainWaits(receiver).keySet()).as("layers with drain waits").containsOnly(WEBSOCKET);
            System.out.printf("FIGURES %s, client stops reading: app blocked %d ns in the failed send, %d B"
                            + " unsent, its session queue %d B; span wait %.3f s, stalled %s, bytes at the end %s, function %s;"
                            + " websocket histogram %d waits %.3f s (app: %d sends >= 1 ms, %.3f s); drain waits by"
                            + " layer %s; largest shares of the connection %s; the client received %d B%n",
                    label, blockedNanos, unsent, queuedBytes, spanWait, span.attr(SPAN_STALLED), span.attr(SPAN_PENDING_BYTES),
                    span.attr(FUNCTION), websocketWaitCount(receiver), histogram, done.get("blocked"), appSeconds,
                    drainWaits(receiver), shares(receiver, server.port), client.bytes());
            assertWellFormed(receiver);
        }
    }

    /**
     * Jetty, a client reading 200 KB/s: once the socket buffers are full, every blocking send waits for about the
     * time the client takes to read a message. The drain-wait histogram of layer websocket adds up to the app's own
     * total of its blocked sends (those of 1 ms or more), with at most as many waits, and no stall.
     */
    @Test
    void jettySendsBlockedByASlowReaderAreDrainWaitsAsLongAsTheAppMeasured() {
        jettyPacedReader("jetty basic", r -> jetty(r, "-Dit.jetty.txBufSize=65536", "2s"));
    }

    /** The same on Jetty's ee10 Jakarta container ({@code getBasicRemote().sendBinary}). */
    @Test
    void jettyEe10BasicSendsBlockedByASlowReaderAreDrainWaitsAsLongAsTheAppMeasured() {
        jettyPacedReader("jetty ee10 basic", r -> jettyEe10(r, "-Dit.jetty.txBufSize=65536", "2s"));
    }

    private static void jettyPacedReader(String label, Function<OtlpReceiver, ListeningChild> start) {
        int count = 24;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = start.apply(receiver);
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/basic?count=" + count, 200_000)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("BASIC-DONE"));
            assertThat(done.get("sent")).isEqualTo(count);
            long blocked = done.get("blocked");
            double appSeconds = done.get("blockedNanos") / 1e9;
            assertThat(blocked).as("sends the app measured blocked").isGreaterThan(3);
            receiver.await("the websocket waits counted", () -> websocketWaitCount(receiver) > 0);
            receiver.awaitFurtherMetricBatches(2);
            long waits = websocketWaitCount(receiver);
            double histogram = websocketWaitSeconds(receiver);
            assertThat(waits).as("websocket waits; the app's blocked sends %d", blocked).isBetween(1L, blocked);
            // each wait is the wait on the send's future inside the app's call: never longer, shorter by what the
            // app's thread spends around it (the send itself, a preemption on a loaded machine)
            assertThat(histogram).as("drain-wait total against the app's %s s in %d sends", appSeconds, blocked)
                    .isBetween(appSeconds * 0.8 - 0.01 * blocked, appSeconds + 0.01);
            assertThat(receiver.counterTotal(DRAIN_STALLS, p -> p.has(LAYER, WEBSOCKET))).as("stalls").isZero();
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, WEBSOCKET))).isZero();
            System.out.printf("FIGURES %s, client at 200 KB/s: app %d of %d sends blocked >= 1 ms, %.3f s"
                            + " (longest %.3f s); websocket histogram %d waits %.3f s; drain waits by layer %s;"
                            + " largest shares of the connection %s; the client received %d B so far%n", label, blocked,
                    count, appSeconds, done.get("longestNanos") / 1e9, waits, histogram, drainWaits(receiver),
                    shares(receiver, server.port), client.bytes());
            assertWellFormed(receiver);
        }
    }

    /**
     * Jetty, a client reading as fast as it can: the sends hardly block. No more waits than the app measured sends of
     * 1 ms or more, their total at most the app's, no stall (a negative control).
     */
    @Test
    void jettySendsToAFastReaderAreNoWaits() {
        int count = 96;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = jetty(receiver, "-Dit.none=0", "1s");
             SlowWebSocket client = SlowWebSocket.connect(server.port, "/basic?count=" + count, 1L << 40)) {
            Map<String, Long> done = values(server.child.awaitStdoutValue("BASIC-DONE"));
            assertThat(done.get("sent")).isEqualTo(count);
            receiver.await("every message at the client", () -> client.messages() == count);
            receiver.awaitMetricBatches(receiver.metricBatchCount() + 1);
            receiver.awaitFurtherMetricBatches(1);
            long blocked = done.get("blocked");
            double appSeconds = done.get("blockedNanos") / 1e9;
            assertThat(websocketWaitCount(receiver)).as("websocket waits; the app's sends >= 1 ms: %d", blocked)
                    .isLessThanOrEqualTo(blocked);
            assertThat(websocketWaitSeconds(receiver)).isLessThanOrEqualTo(appSeconds + 0.01);
            assertThat(receiver.counterTotal(DRAIN_STALLS, p -> p.has(LAYER, WEBSOCKET))).isZero();
            System.out.printf("FIGURES jetty basic, fast client: app %d of %d sends >= 1 ms (%.4f s); websocket"
                            + " histogram %d waits %.4f s; drain waits by layer %s%n", blocked, count, appSeconds,
                    websocketWaitCount(receiver), websocketWaitSeconds(receiver), drainWaits(receiver));
            assertWellFormed(receiver);
        }
    }
}

package io.highwater.it;

import io.highwater.it.apps.NettyWebSocketServer;
import io.highwater.it.support.Contract;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CHANNEL_UNWRITABLE;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.connectionPending;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Netty's own WebSocket frames are seen at the Netty layer, with no WebSocket layer of their own: a Netty
 * {@code WebSocketServerProtocolHandler} server (Netty 4.1) sending 8 KiB binary frames to a client that completes the
 * handshake and then reads 200 KB/s. Ground truth: the app's own count of the frames it wrote while the channel said
 * unwritable.
 */
class NettyWebSocketTest {

    private static final long MIB = 1024 * 1024;
    private static final String IGNORING = NettyWebSocketServer.class.getName() + "$Sender.ignoring";

    private static ListeningChild server(OtlpReceiver receiver, String mode, long frames) {
        return ListeningChild.start(ChildJvm.builder("netty-websocket-" + mode)
                .classPath(NettyVariant.NETTY_41_NIO.classPath()).mainClass(NettyWebSocketServer.class.getName())
                .args(mode, String.valueOf(frames))
                .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint())));
    }

    private static SlowClient client(int port, long rate) {
        return SlowClient.builder(port, "/ws").header("Upgrade", "websocket").header("Connection", "Upgrade")
                .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").header("Sec-WebSocket-Version", "13")
                .bytesPerSecond(rate).connect();
    }

    private static Map<String, Long> values(String line) {
        Map<String, Long> out = new HashMap<>();
        for (String pair : line.trim().split(" ")) {
            int eq = pair.indexOf('=');
            out.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return out;
    }

    /**
     * Frames written with {@code writeAndFlush} while the channel is unwritable are ignored writes of the app's method
     * at the Netty layer, one per frame (the frame encoder's output is not judged again), with the frames' payload as
     * bytes; the backlog is the connection's Netty share; nothing is reported under a {@code websocket} layer.
     */
    @Test
    void nettysOwnWebSocketFramesAreJudgedAtTheNettyLayerOncePerFrame() {
        long frames = 8_000;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver, "ignore", frames);
             SlowClient client = client(server.port, 200_000)) {
            Map<String, Long> sent = values(server.child.awaitStdoutValue("SENT"));
            long whileUnwritable = sent.get("whileUnwritable");
            assertThat(whileUnwritable).as("frames written while unwritable").isGreaterThan(frames / 2);
            receiver.awaitPoint("the connection's netty share beyond 32 MiB",
                    connectionPending(client, server.port).and(above(32 * MIB)));
            Predicate<MetricPoint> site = p -> p.has(LAYER, NETTY) && p.has(SIGNAL, CHANNEL_UNWRITABLE)
                    && p.has(FUNCTION, IGNORING);
            receiver.awaitPoint("ignored writes of " + IGNORING, metric(IGNORED_WRITES).and(site).and(above(0)));
            receiver.awaitFurtherMetricBatches(1);
            long ignored = receiver.counterTotal(IGNORED_WRITES, site);
            // beyond tolerance: the frames while Netty held up to two high-water marks (64 KiB) are not ignored
            assertThat(ignored).as("ignored frames; the app wrote %d while unwritable", whileUnwritable)
                    .isLessThanOrEqualTo(whileUnwritable).isGreaterThan(whileUnwritable - 32);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> true)).as("ignored writes of any layer or site")
                    .isEqualTo(ignored);
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> p.has(LAYER, NETTY)))
                    .as("the frames' payload").isEqualTo(ignored * NettyWebSocketServer.FRAME);
            // the websocket layer is Tomcat's, Jetty's and Spring's sends: its counters exist, at zero, and it has
            // no connection of its own here
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> p.has(LAYER, "websocket")))
                    .as("the websocket layer's ignored writes").isZero();
            assertThat(receiver.points(Contract.CONNECTION_PENDING_BYTES))
                    .as("per-connection points of the websocket layer").noneMatch(p -> p.has(LAYER, "websocket"));
            System.out.printf("FIGURES netty websocket: %d ignored frames of %d written while unwritable%n", ignored,
                    whileUnwritable);
            assertWellFormed(receiver);
        }
    }

    /** A sender that resumes in {@code channelWritabilityChanged}: no ignored write, drain waits on the Netty layer. */
    @Test
    void aRespectingWebSocketSenderIgnoresNothing() {
        long frames = 2_000;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(receiver, "respect", frames);
             SlowClient client = client(server.port, 4_000_000)) {
            server.child.awaitStdoutValue("SENT");
            client.awaitBodyBytes(frames * NettyWebSocketServer.FRAME);
            receiver.awaitPoint("netty drain waits", metric(io.highwater.it.support.Contract.DRAIN_WAIT)
                    .and(p -> p.has(LAYER, NETTY)).and(p -> p.longValue() > 0));
            receiver.awaitFurtherMetricBatches(1);
            assertThat(receiver.counterPoints(IGNORED_WRITES)).allSatisfy(p ->
                    assertThat(p.longValue()).as("%s", p).isZero());
            assertWellFormed(receiver);
        }
    }
}

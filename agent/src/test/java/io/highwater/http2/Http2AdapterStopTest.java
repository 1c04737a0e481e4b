package io.highwater.http2;

import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The stop signal of a real stream channel of Netty's {@code Http2MultiplexHandler} (a client connection on an
 * embedded channel, whose peer never grants more than the initial 65,535-byte window): the pending bytes a stop
 * observes are what Netty's remote flow controller holds for the stream, read from the stream's flow-controller state,
 * which the tracked entry keeps after the first stop, so that later stops and writes read one counter. The probe,
 * read at tracking and at every collection, takes the stream channel's own count when it is more.
 */
class Http2AdapterStopTest {

    private static final int FRAME = 16 * 1024;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped);
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get,
            30_000_000_000L);
    private final Http2Adapter adapter = new Http2Adapter(monitor);
    private final Http2FrameCodec codec = Http2FrameCodecBuilder.forClient().build();
    private final EmbeddedChannel parent =
            new EmbeddedChannel(codec, new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));

    @AfterEach
    void tearDown() {
        parent.finishAndReleaseAll();
    }

    @Test
    void eachStopObservesTheFlowControllersPendingBytesFromTheKeptState() throws Exception {
        Http2StreamChannel child = new Http2StreamChannelBootstrap(parent)
                .handler(new ChannelInboundHandlerAdapter()).open().sync().getNow();
        child.writeAndFlush(new DefaultHttp2HeadersFrame(
                new DefaultHttp2Headers().method("POST").path("/upload").scheme("http"), false));
        int frames = writeUntilUnwritable(child);
        assertThat(child.isWritable()).as("the stream channel after %d frames", frames).isFalse();

        adapter.childWritabilityChanged(child);

        TrackedConnection c = registry.get(child);
        assertThat(c).as("tracked at its stop").isNotNull();
        assertThat(c.isWaiting()).isTrue();
        Object state = flowState(child);
        assertThat(c.probeState()).as("the stream's own flow-controller state, kept").isSameAs(state);
        long first = pendingBytes(state);
        assertThat(first).as("more than the window let out").isGreaterThan(0);
        // the tracking's first reading is the probe's: the stream channel's own count, which holds the frame the
        // window cut in two (its written part still in memory until the rest goes), above the flow controller's
        long channelCount = streamChannelCount(child);
        assertThat(channelCount).as("the stream channel counts at least the flow controller's %d", first)
                .isGreaterThanOrEqualTo(first).isLessThanOrEqualTo(first + FRAME + 64);
        assertThat(c.peakPending()).as("the stop's pending bytes: Netty's counts").isEqualTo(channelCount);

        // more frames behind the exhausted window: the next stop reads the kept state's counter, which moved
        for (int i = 0; i < 3; i++) {
            child.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[FRAME]), false));
        }
        parent.runPendingTasks();
        long second = pendingBytes(state);
        assertThat(second).isEqualTo(first + 3 * FRAME);
        adapter.childWritabilityChanged(child);
        assertThat(registry.get(child)).isSameAs(c);
        assertThat(c.peakPending()).as("the second stop's pending bytes: Netty's flow controller")
                .isEqualTo(second);
        assertThat(adapter.pendingBytes(child)).as("the probe: the stream channel's own count, the connection's"
                + " outbound buffer being empty").isEqualTo(Math.max(second, streamChannelCount(child)));
    }

    /** Netty's own count of the stream channel's pending bytes ({@code totalPendingSize}, private). */
    private static long streamChannelCount(Http2StreamChannel child) throws ReflectiveOperationException {
        for (Class<?> k = child.getClass(); k != null; k = k.getSuperclass()) {
            try {
                Field f = k.getDeclaredField("totalPendingSize");
                f.setAccessible(true);
                return f.getLong(child);
            } catch (NoSuchFieldException e) {
                // up
            }
        }
        throw new NoSuchFieldException("totalPendingSize");
    }

    private int writeUntilUnwritable(Http2StreamChannel child) {
        int n = 0;
        while (child.isWritable() && n < 100) {
            child.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[FRAME]), false));
            parent.runPendingTasks();
            n++;
        }
        return n;
    }

    private Object flowState(Http2StreamChannel child) throws ReflectiveOperationException {
        Http2Connection connection = codec.connection();
        DefaultHttp2RemoteFlowController fc = (DefaultHttp2RemoteFlowController) connection.remote().flowController();
        Field key = DefaultHttp2RemoteFlowController.class.getDeclaredField("stateKey");
        key.setAccessible(true);
        return connection.stream(child.stream().id()).getProperty((Http2Connection.PropertyKey) key.get(fc));
    }

    private static long pendingBytes(Object state) throws ReflectiveOperationException {
        Method m = state.getClass().getDeclaredMethod("pendingBytes");
        m.setAccessible(true);
        return (Long) m.invoke(state);
    }
}

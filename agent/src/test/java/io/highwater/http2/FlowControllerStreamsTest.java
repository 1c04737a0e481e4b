package io.highwater.http2;

import com.example.h2.DirectWriter;
import io.highwater.core.CallSite;
import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import io.highwater.http2.bootstrap.Http2Calls;
import io.highwater.http2.bootstrap.Http2Hooks;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Streams of Netty's real remote flow controller without a stream channel, as the advice on
 * {@code FlowState.enqueueFrame} reports them: judged by Netty's own {@code isWritable(stream)} and pending bytes,
 * once, and only when the application's code handed the frame to the encoder.
 */
class FlowControllerStreamsTest {

    private static final int FRAME = 16 * 1024;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped);
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get,
            30_000_000_000L);
    private final DirectWriter.EncodingHandler encoding = new DirectWriter.EncodingHandler();
    private final EmbeddedChannel channel = new EmbeddedChannel(encoding);
    private final Http2Connection connection = new DefaultHttp2Connection(true);
    private final DefaultHttp2RemoteFlowController fc = new DefaultHttp2RemoteFlowController(connection);
    private Http2Stream stream;

    @BeforeEach
    void setUp() throws Http2Exception {
        connection.remote().flowController(fc);
        ChannelHandlerContext ctx = channel.pipeline().firstContext();
        fc.channelHandlerContext(ctx);
        stream = connection.local().createStream(2, false);
        Http2Calls.hooks = new Http2Adapter(monitor);
    }

    @AfterEach
    void tearDown() {
        Http2Calls.hooks = Http2Hooks.NOOP;
        channel.finishAndReleaseAll();
    }

    /** Frames queued on the stream without passing the (absent) advice; returns the stream's pending bytes. */
    private long queue(int frames) {
        for (int i = 0; i < frames; i++) {
            fc.addFlowControlled(stream, new Frame(FRAME));
        }
        return pendingBytes();
    }

    private long pendingBytes() {
        try {
            Method m = flowState().getClass().getDeclaredMethod("pendingBytes");
            m.setAccessible(true);
            return (Long) m.invoke(flowState());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private Object flowState() {
        try {
            Field key = DefaultHttp2RemoteFlowController.class.getDeclaredField("stateKey");
            key.setAccessible(true);
            return stream.getProperty((Http2Connection.PropertyKey) key.get(fc));
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private void exhaustWindow() throws Http2Exception {
        fc.incrementWindowSize(stream, -fc.windowSize(stream));
    }

    @Test
    void anApplicationFrameIntoAStreamThatSaidStopBeyondTheToleranceIsOneIgnoredWrite() throws Http2Exception {
        exhaustWindow();
        long pending = queue(10);
        assertThat(fc.isWritable(stream)).isFalse();

        DirectWriter.write(flowState(), new Frame(FRAME), pending);

        TrackedConnection c = registry.get(flowState());
        assertThat(c).as("the stream is tracked by its flow state").isNotNull();
        assertThat(c.pendingBytes()).as("Netty's own count").isEqualTo(pending);
        assertThat(c.isWaiting()).isTrue();
        assertThat(c.connectionKey()).as("one stream of its connection").isSameAs(channel);
        assertThat(c.connectionWindow()).isEqualTo(fc.windowSize(connection.connectionStream()));
        assertThat(c.stream().urlPath).isEqualTo("unknown");
        CallSite site = c.lastSite();
        assertThat(site.function()).isEqualTo(DirectWriter.class.getName() + ".write");
        assertThat(site.writes()).isEqualTo(1);
        assertThat(monitor.ignoredBytes(Http2Integration.STREAM_WINDOW_EXHAUSTED)).isEqualTo(FRAME);
    }

    @Test
    void aFrameThatAHandlersWriteHandsToTheEncoderWasJudgedWhereItEnteredThePipeline() throws Http2Exception {
        exhaustWindow();
        encoding.flowState = flowState();
        encoding.frame = new Frame(FRAME);
        encoding.pendingBefore = queue(10);

        channel.writeOutbound("a write into the connection's pipeline");

        assertThat(registry.get(flowState())).as("still the stream's pile: tracked").isNotNull();
        assertThat(monitor.callSites().all()).as("no ignored write").isEmpty();
    }

    @Test
    void aStreamThatSaysStopWithinTheToleranceIsTrackedButNotJudged() throws Http2Exception {
        exhaustWindow();
        long pending = queue(6);
        assertThat(pending).isGreaterThan(Http2Calls.FLOOR).isLessThanOrEqualTo(2 * Http2Calls.FLOOR);

        DirectWriter.write(flowState(), new Frame(FRAME), pending);

        assertThat(registry.get(flowState())).isNotNull();
        assertThat(monitor.callSites().all()).isEmpty();
    }

    @Test
    void aStreamWithWindowLeftSaysGoAndIsNeitherTrackedNorJudged() throws Http2Exception {
        // a peer that granted a large window (as curl's 32 MiB) on the stream and the connection
        fc.incrementWindowSize(stream, 1 << 20);
        fc.incrementWindowSize(connection.connectionStream(), 1 << 20);
        long pending = queue(10);
        assertThat(fc.isWritable(stream)).as("window and channel left: Netty says go").isTrue();

        DirectWriter.write(flowState(), new Frame(FRAME), pending);

        assertThat(registry.all()).isEmpty();
        assertThat(monitor.callSites().all()).isEmpty();
    }

    @Test
    void theTimerEndsTheWaitWhenNettySaysGoAgain() throws Http2Exception {
        exhaustWindow();
        DirectWriter.write(flowState(), new Frame(FRAME), queue(10));
        TrackedConnection c = registry.get(flowState());
        assertThat(c.isWaiting()).isTrue();

        // the peer's WINDOW_UPDATE: the flow controller lets the pile out (the channel takes it) and says go
        fc.incrementWindowSize(stream, 1 << 20);
        fc.incrementWindowSize(connection.connectionStream(), 1 << 20);
        fc.writePendingBytes();
        assertThat(fc.isWritable(stream)).isTrue();
        monitor.tick();

        assertThat(c.isWaiting()).isFalse();
    }

    /**
     * At attach ({@code Http2Discovery} hands over every active stream without a stream channel): a stream whose pile
     * is above the floor and that Netty says is not writable is tracked with Netty's own count, waiting, found at
     * attach; nothing is judged, as no write was seen.
     */
    @Test
    void aStreamFoundAtAttachWithItsPileIsTrackedAndNothingIsJudged() throws Http2Exception {
        exhaustWindow();
        long pending = queue(10);
        FlowControllerStreams streams = new FlowControllerStreams(monitor, new PathTable());

        streams.foundAtAttach(flowState(), fc, stream, channel);

        TrackedConnection c = registry.get(flowState());
        assertThat(c).isNotNull();
        assertThat(c.pendingBytes()).isEqualTo(pending);
        assertThat(c.isWaiting()).isTrue();
        assertThat(c.foundAtAttach()).isTrue();
        assertThat(c.connectionKey()).isSameAs(channel);
        assertThat(c.stream().urlPath).as("its HEADERS were read before the attach").isEqualTo("unknown");
        assertThat(monitor.callSites().all()).isEmpty();
        assertThat(monitor.ignoredBytes(Http2Integration.STREAM_WINDOW_EXHAUSTED)).isZero();

        // found twice (say two searches): one entry
        streams.foundAtAttach(flowState(), fc, stream, channel);
        assertThat(registry.all()).hasSize(1);
    }

    /** The same rule as at an enqueued frame: a pile Netty lets out (window left) or one below the floor is not tracked. */
    @Test
    void aStreamFoundAtAttachThatSaysGoOrHoldsLittleIsNotTracked() throws Http2Exception {
        FlowControllerStreams streams = new FlowControllerStreams(monitor, new PathTable());
        fc.incrementWindowSize(stream, 1 << 20);
        fc.incrementWindowSize(connection.connectionStream(), 1 << 20);
        queue(10);
        assertThat(fc.isWritable(stream)).isTrue();
        streams.foundAtAttach(flowState(), fc, stream, channel);
        assertThat(registry.all()).isEmpty();

        Http2Stream small = connection.local().createStream(4, false);
        fc.incrementWindowSize(small, -fc.windowSize(small));
        fc.addFlowControlled(small, new Frame(FRAME));
        assertThat(fc.isWritable(small)).isFalse();
        Http2Stream kept = stream;
        stream = small;
        try {
            assertThat(pendingBytes()).isLessThanOrEqualTo(Http2Calls.FLOOR);
            streams.foundAtAttach(flowState(), fc, small, channel);
        } finally {
            stream = kept;
        }
        assertThat(registry.all()).isEmpty();
    }

    /** A DATA frame of {@code size} bytes that writes nothing: the flow controller's accounting only. */
    static final class Frame implements Http2RemoteFlowController.FlowControlled {
        private int size;

        Frame(int size) {
            this.size = size;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void error(ChannelHandlerContext ctx, Throwable cause) {
        }

        @Override
        public void writeComplete() {
        }

        @Override
        public void write(ChannelHandlerContext ctx, int allowedBytes) {
            size -= Math.min(size, allowedBytes);
        }

        @Override
        public boolean merge(ChannelHandlerContext ctx, Http2RemoteFlowController.FlowControlled next) {
            return false;
        }
    }
}

package io.highwater.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One writability flip pair of a real HTTP/2 stream channel (a child of Netty's {@code Http2MultiplexHandler}), as a
 * fast h2c stream does it at every flush (bench/scripts/streaming.sh --h2c: ~536,870 flips per 8 GiB): one small DATA
 * frame written and flushed into a stream channel whose water marks are 1 and 2 bytes, so that the write makes it
 * unwritable (stop: {@code fireChannelWritabilityChanged}, the http2 advice, the agent's gate entry, tracking, the
 * wait begins) and its completion on the parent makes it writable again (go: the wait ends and is recorded in the
 * drain-wait histogram). The parent is an embedded client connection whose stream and connection windows are open
 * as far as HTTP/2 allows, so the frame goes out at once.
 *
 * <p>The difference between {@link WithAgent} and {@link NoAgent} is the agent's cost of a flip pair (plus its
 * pipeline-write fast path on the frame's hops while the stream is in the gate). Each batch checks that every write
 * flipped the stream twice; a "with agent" fork checks that the flip advice fired (the agent's gate counted the
 * stream while it was unwritable).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class Http2StreamFlip {

    static final int CYCLES = 100;

    private EmbeddedChannel parent;
    private Http2StreamChannel child;
    private final AtomicInteger flips = new AtomicInteger();
    private ByteBuf data;

    protected abstract boolean withAgent();

    @Setup
    public void setUp() throws Exception {
        AgentCheck.expect(withAgent());
        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient().build();
        parent = new EmbeddedChannel(codec, new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        child = new Http2StreamChannelBootstrap(parent).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                flips.incrementAndGet();
            }
        }).open().sync().getNow();
        child.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, 2));
        child.writeAndFlush(new DefaultHttp2HeadersFrame(
                new DefaultHttp2Headers().method("POST").path("/flip").scheme("http"), false)).sync();
        openWindows(codec.connection(), child.stream().id());
        data = Unpooled.unreleasableBuffer(Unpooled.directBuffer(16).writeZero(16));
        parent.releaseOutbound();
        if (withAgent()) {
            expectFlipAdvice();
        }
    }

    /** The peer's WINDOW_UPDATEs, given directly: the stream's and the connection's windows at their maximum. */
    private static void openWindows(Http2Connection connection, int streamId) throws Http2Exception {
        Http2RemoteFlowController fc = connection.remote().flowController();
        Http2Stream stream = connection.stream(streamId);
        fc.incrementWindowSize(stream, Integer.MAX_VALUE - fc.windowSize(stream));
        Http2Stream connectionStream = connection.connectionStream();
        fc.incrementWindowSize(connectionStream, Integer.MAX_VALUE - fc.windowSize(connectionStream));
    }

    /** A written, unflushed frame holds the stream unwritable: the agent's gate must count it then, and not after. */
    private void expectFlipAdvice() throws ReflectiveOperationException {
        Class<?> calls = Class.forName("io.highwater.netty.bootstrap.NettyCalls", false, null);
        AtomicInteger unwritable = (AtomicInteger) calls.getField("unwritableChannels").get(null);
        child.write(new DefaultHttp2DataFrame(data.retainedDuplicate(), false));
        int during = unwritable.get();
        boolean stopped = !child.isWritable();
        child.flush();
        int after = unwritable.get();
        parent.releaseOutbound();
        if (!stopped || during != 1 || after != 0 || !child.isWritable()) {
            throw new IllegalStateException("the agent is active but its stream-channel flip advice did not fire"
                    + " (stream unwritable: " + stopped + ", gate " + during + " then " + after
                    + "): AbstractHttp2StreamChannel was not instrumented");
        }
        System.out.println("# highwater http2 flip advice inlined into AbstractHttp2StreamChannel");
    }

    @TearDown
    public void tearDown() {
        parent.finishAndReleaseAll();
    }

    /** {@value #CYCLES} frames, each a stop and a go; the score is per flip pair. */
    @Benchmark
    @OperationsPerInvocation(CYCLES)
    public int flipPair() {
        int before = flips.get();
        for (int i = 0; i < CYCLES; i++) {
            child.writeAndFlush(new DefaultHttp2DataFrame(data.retainedDuplicate(), false), child.voidPromise());
        }
        parent.runPendingTasks();
        parent.releaseOutbound();
        int flipped = flips.get() - before;
        if (flipped != 2 * CYCLES) {
            throw new IllegalStateException(flipped + " writability changes for " + CYCLES + " frames");
        }
        return flipped;
    }

    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends Http2StreamFlip {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT_DEFAULTS})
    public static class WithAgent extends Http2StreamFlip {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

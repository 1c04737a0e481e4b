package io.highwater.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * 128-byte writes through a channel pipeline (three outbound handlers, the channel's own write path, its
 * {@code ChannelOutboundBuffer}), with and without the agent: throughput in writes per microsecond.
 *
 * <p>This is where the agent judges writes: its advice is inlined into every context's {@code write} and
 * {@code writeAndFlush}, so each write here passes it four times (the channel's own entry and the three handlers
 * passing it on): with no channel unwritable it reads one counter; with another channel unwritable
 * ({@link #otherUnwritable}) it looks this channel up in the agent's filter of unwritable channels. The channel is
 * an {@link EmbeddedChannel}. The agent's adapter skips embedded channels on its slow path, but that does not matter
 * here: the advice runs on every write whatever the channel class, and a writable channel never reaches the adapter
 * (unless it shares a filter slot with the unwritable one, 1 in 4096). What it does not exercise:
 * {@code removeBytes} (an embedded channel hands messages on with {@code remove()}), which
 * {@link AdviceFastPath#addFlushRemoveBytes} and the streaming run (bench/scripts/streaming.sh, real sockets)
 * cover.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class PipelineWrite {

    static final int SIZE = 128;
    static final int BATCH = 16;

    private EmbeddedChannel channel;
    private Queue<Object> written;
    private ChannelPromise promise;
    private ByteBuf message;
    private EventLoopGroup loop;

    /**
     * {@code none}: no channel in the JVM is unwritable (a healthy server; the agent's advice reads one counter).
     * {@code one}: another channel, a real in-VM channel whose peer does not read, is held unwritable (a server with
     * a slow client; the advice looks its channel up in the agent's filter of unwritable channels at every hop).
     */
    @Param({"none", "one"})
    public String otherUnwritable;

    protected abstract boolean withAgent();

    @Setup
    public void setUp() throws Exception {
        AgentCheck.expect(withAgent());
        channel = new EmbeddedChannel(new PassThrough(), new Counting(), new PassThrough());
        written = channel.outboundMessages();
        promise = channel.voidPromise();
        message = Unpooled.unreleasableBuffer(Unpooled.directBuffer(SIZE).writeZero(SIZE));
        if (otherUnwritable.equals("one")) {
            holdAnotherChannelUnwritable();
        }
    }

    /** A local channel pair; the client writes beyond its high-water mark and never flushes. */
    private void holdAnotherChannelUnwritable() throws Exception {
        loop = new DefaultEventLoopGroup(1);
        LocalAddress address = new LocalAddress("pipeline-write-" + System.nanoTime());
        new ServerBootstrap().group(loop).channel(LocalServerChannel.class)
                .childHandler(new ChannelInboundHandlerAdapter()).bind(address).sync();
        Channel client = new Bootstrap().group(loop).channel(LocalChannel.class)
                .handler(new ChannelInboundHandlerAdapter())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32, 64))
                .connect(address).sync().channel();
        client.write(Unpooled.wrappedBuffer(new byte[128])).addListener(f -> { });
        client.eventLoop().submit(() -> { }).sync();
        if (client.isWritable()) {
            throw new IllegalStateException("the other channel must be unwritable");
        }
        if (withAgent() && AgentCheck.unwritableChannels() == 0) {
            throw new IllegalStateException("the agent does not count the other channel as unwritable");
        }
    }

    @TearDown
    public void tearDown() throws Exception {
        if (!channel.isWritable()) {
            throw new IllegalStateException("the channel must stay writable");
        }
        channel.finishAndReleaseAll();
        if (loop != null) {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        }
    }

    /** One write, one flush. */
    @Benchmark
    public Object writeAndFlush() {
        channel.writeAndFlush(message, promise);
        return written.poll();
    }

    /** Sixteen writes, one flush: how a streaming handler writes. Scored per write. */
    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(BATCH)
    public void write16Flush() {
        for (int i = 0; i < BATCH; i++) {
            channel.write(message, promise);
        }
        channel.flush();
        written.clear();
    }

    /** An outbound handler that only passes writes on, as codecs and loggers in a real pipeline do. */
    static final class PassThrough extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg, promise);
        }
    }

    /** A duplex handler that looks at each message on its way, like a metrics or traffic-shaping handler. */
    static final class Counting extends ChannelDuplexHandler {
        long bytes;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf) {
                bytes += ((ByteBuf) msg).readableBytes();
            }
            ctx.write(msg, promise);
        }
    }

    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends PipelineWrite {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends PipelineWrite {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

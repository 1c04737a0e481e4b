package io.highwater.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalChannel;
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

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The agent's slow path: one stop/go cycle of a channel, i.e. the outbound buffer crossing its high-water mark
 * (stop: {@code fireChannelWritabilityChanged}, advice, the agent registers the connection once and starts a
 * wait) and then falling below its low-water mark (go: the wait ends and is recorded in the drain-wait
 * histogram). A streaming server that respects backpressure does this all the time: bench/scripts/streaming.sh
 * counts about 89,000 writability changes per GiB (256-byte writes, default water marks).
 *
 * <p>Driven on the channel's own event loop, as Netty does, in batches of {@value #CYCLES} cycles; scored per
 * cycle (two transitions). The channel is a {@link LocalChannel} (a real channel, not one the agent skips); the
 * agent runs with its default settings, export included, so its instruments aggregate as in production.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class WritabilityTransition {

    static final int CYCLES = 100;
    /** Above the default high-water mark (64 KiB): one message makes the channel unwritable. */
    static final int SIZE = 70_000;

    private EventLoopGroup group;
    private LocalChannel channel;
    private Callable<Boolean> cycles;

    protected abstract boolean withAgent();

    @Setup
    public void setUp() throws InterruptedException {
        AgentCheck.expect(withAgent());
        group = new DefaultEventLoopGroup(1);
        channel = new LocalChannel();
        group.register(channel).sync();
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        ChannelPromise promise = channel.voidPromise();
        // counts as SIZE pending bytes (the size argument), never freed by remove(): nothing is allocated
        ByteBuf message = Unpooled.unreleasableBuffer(Unpooled.directBuffer(16).writeZero(16));
        cycles = () -> {
            boolean allCrossed = true;
            for (int i = 0; i < CYCLES; i++) {
                buffer.addMessage(message, SIZE, promise);
                allCrossed &= !buffer.isWritable();
                buffer.addFlush();
                buffer.remove();
                allCrossed &= buffer.isWritable();
            }
            return allCrossed;
        };
    }

    @TearDown
    public void tearDown() throws InterruptedException {
        channel.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** {@value #CYCLES} stop/go cycles on the event loop; the score is per cycle. */
    @Benchmark
    @OperationsPerInvocation(CYCLES)
    public boolean stopGo() throws InterruptedException, ExecutionException {
        boolean crossed = channel.eventLoop().submit(cycles).get();
        if (!crossed) {
            throw new IllegalStateException("the channel did not cross its water marks");
        }
        return crossed;
    }

    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends WritabilityTransition {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT_DEFAULTS})
    public static class WithAgent extends WritabilityTransition {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

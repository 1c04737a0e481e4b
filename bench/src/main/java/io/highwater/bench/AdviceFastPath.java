package io.highwater.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.OutboundBufferAccess;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The cost of the agent's advice on the hot path of a writable channel: Netty's own
 * {@code ChannelOutboundBuffer} calls, driven directly so that nothing else is measured. The same benchmark
 * methods run in two classes whose forks differ only in {@code -javaagent:} ({@link NoAgent}, {@link WithAgent});
 * the advice's cost is the difference between them.
 *
 * <ul>
 *   <li>{@code addFlushRemoveBytes}: a 128-byte message enters the buffer ({@code addMessage}), is flushed, and
 *       leaves it the way the NIO/epoll transports report socket progress ({@code removeBytes}: advice).</li>
 *   <li>{@code addFlushRemove}: the same, leaving through {@code remove()} (embedded and local channels). No advice
 *       is left on this path since writes are judged where they enter the pipeline ({@link PipelineWrite}): this
 *       one shows that.</li>
 *   <li>{@code submit}: the accounting Netty does on the application thread for a write made from outside the
 *       event loop ({@code incrementPendingOutboundBytes}; no advice any more either), undone as the write task
 *       would.</li>
 * </ul>
 *
 * The channel stays far below its high-water mark throughout: the advice takes its fast path (one read of the
 * buffer's volatile {@code unwritable} field).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class AdviceFastPath {

    static final int SIZE = 128;

    private EmbeddedChannel channel;
    private ChannelOutboundBuffer buffer;
    private ChannelPromise promise;
    private ByteBuf message;

    protected abstract boolean withAgent();

    @Setup
    public void setUp() {
        AgentCheck.expect(withAgent());
        channel = new EmbeddedChannel();
        buffer = channel.unsafe().outboundBuffer();
        promise = channel.voidPromise();
        // never freed by remove(): the same message enters the buffer on every operation, nothing is allocated
        message = Unpooled.unreleasableBuffer(Unpooled.directBuffer(SIZE).writeZero(SIZE));
        if (!buffer.isWritable()) {
            throw new IllegalStateException("the channel must stay writable");
        }
    }

    @TearDown
    public void tearDown() {
        if (buffer.totalPendingWriteBytes() != 0 || !buffer.isWritable()) {
            throw new IllegalStateException("benchmark left " + buffer.totalPendingWriteBytes() + " bytes pending");
        }
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public void addFlushRemoveBytes() {
        buffer.addMessage(message, SIZE, promise);
        buffer.addFlush();
        buffer.removeBytes(SIZE);
    }

    @Benchmark
    public void addFlushRemove() {
        buffer.addMessage(message, SIZE, promise);
        buffer.addFlush();
        buffer.remove();
    }

    @Benchmark
    public void submit() {
        OutboundBufferAccess.incrementPendingOutboundBytes(buffer, SIZE);
        OutboundBufferAccess.decrementPendingOutboundBytes(buffer, SIZE);
    }

    /** Plain Netty. */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends AdviceFastPath {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    /** Netty with {@code -javaagent:} the highwater agent (export off: {@link BuildInfo#AGENT_ARGS}). */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends AdviceFastPath {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

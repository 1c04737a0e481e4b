package io.highwater.bench;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Stream;
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
 * The cost of the agent's HTTP/2 advice per DATA frame written on a stream with window left (the normal case):
 * Netty's own remote flow controller ({@code DefaultHttp2RemoteFlowController}) taking one 1 KiB frame into a stream's
 * queue ({@code addFlowControlled} → {@code FlowState.enqueueFrame}, where the advice reads the stream's pending bytes
 * and compares them with a constant), writing it out ({@code writePendingBytes}) and getting the window back as a
 * peer's WINDOW_UPDATEs would give it (stream and connection). The frame is a reusable no-op {@code FlowControlled}
 * of 1 KiB, so the loop measures the flow controller, not an encoder or a channel. Two classes whose forks differ only
 * in {@code -javaagent:} ({@link NoAgent}, {@link WithAgent}); the advice's cost is the difference (budget: 10 ns,
 * 0 B/op).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class Http2FlowControllerPath {

    private static final int SIZE = 1024;

    private Bench bench;

    protected abstract boolean withAgent();

    @Setup
    public void setUp() throws Http2Exception {
        AgentCheck.expect(withAgent());
        AgentCheck.expectHttp2Advice(withAgent());
        bench = new Bench();
    }

    @TearDown
    public void tearDown() {
        bench.close();
    }

    @Benchmark
    public void dataFrame() throws Http2Exception {
        bench.frame(SIZE);
    }

    /** A server connection with one open stream, its flow controller bound to an embedded channel. */
    static final class Bench {
        final EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        final Http2Connection connection = new DefaultHttp2Connection(true);
        final DefaultHttp2RemoteFlowController fc = new DefaultHttp2RemoteFlowController(connection);
        final Http2Stream stream;
        final Frame frame = new Frame();

        Bench() throws Http2Exception {
            connection.remote().flowController(fc);
            ChannelHandlerContext ctx = channel.pipeline().firstContext();
            fc.channelHandlerContext(ctx);
            stream = connection.local().createStream(2, false);
        }

        void frame(int size) throws Http2Exception {
            frame.size = size;
            fc.addFlowControlled(stream, frame);
            fc.writePendingBytes();
            fc.incrementWindowSize(stream, size);
            fc.incrementWindowSize(connection.connectionStream(), size);
        }

        void close() {
            channel.finishAndReleaseAll();
        }
    }

    /** A frame of {@code size} bytes that writes nothing anywhere: the flow controller's accounting only. */
    static final class Frame implements Http2RemoteFlowController.FlowControlled {
        int size;

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

    /**
     * For {@link AgentCheck#expectHttp2Advice}: a throwaway stream whose window is exhausted, given frames until it
     * holds more than the advice's floor (64 KiB), then one more, which the advice must report.
     */
    static void pushPastTheFloor() {
        try {
            Bench b = new Bench();
            try {
                b.fc.incrementWindowSize(b.stream, -b.fc.windowSize(b.stream));
                for (int i = 0; i < 66; i++) {
                    Frame f = new Frame();
                    f.size = SIZE;
                    b.fc.addFlowControlled(b.stream, f);
                }
            } finally {
                b.close();
            }
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Plain Netty. */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends Http2FlowControllerPath {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    /** Netty with {@code -javaagent:} the highwater agent (export off: {@link BuildInfo#AGENT_ARGS}). */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends Http2FlowControllerPath {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

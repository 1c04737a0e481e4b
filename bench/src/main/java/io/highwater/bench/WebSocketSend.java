package io.highwater.bench;

import jakarta.websocket.SendHandler;
import org.apache.tomcat.websocket.server.BenchWsEndpoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.OutgoingEntry;
import org.eclipse.jetty.websocket.core.OutgoingFrames;
import org.eclipse.jetty.websocket.core.util.WebSocketFlusher;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The cost of the websocket advice per send on the path a send takes when the client reads (nothing blocks, nothing
 * is refused, nothing queues), on the containers' own classes with the socket replaced by one that takes every byte
 * at once:
 * <ul>
 *   <li>{@code tomcatAsyncWrite}: Tomcat 11's {@code WsRemoteEndpointImplServer.doWrite(handler, false, ...)} (an
 *       async send's write) of a 2-byte header and a 1 KiB payload, completed inline: the exit advice reads the
 *       endpoint's {@code handler} (null), the completion's {@code clearHandler} advice one volatile int
 *       ({@link BenchWsEndpoint}).</li>
 *   <li>{@code tomcatBlockingWrite}: the same write with {@code block=true} (a {@code RemoteEndpoint.Basic} send's)
 *       that the socket takes at once: the exit advice reads one volatile int (no Tomcat blocking send waits in the
 *       JVM). A blocking write is noted only where the socket refuses bytes ({@code registerWriteInterest}, off this
 *       path).</li>
 *   <li>{@code jettyBasicSend}: what Jetty 12's Jakarta {@code RemoteEndpoint.Basic.sendBinary} does, on Jetty's
 *       classes: a 1 KiB binary frame through the default {@code OutgoingFrames.sendFrame(Frame, Callback, boolean)}
 *       with a {@code FutureCallback} (the exit advice: a type test and {@code isDone()}), into a
 *       {@code WebSocketFlusher} (the entry advice: {@code _entries.isEmpty()}) whose frame is written at once (the
 *       per-frame completion advice: one volatile int), then {@code FutureCallback.get()} on the done future (one
 *       volatile int at entry; nothing at exit).</li>
 *   <li>{@code jettyAsyncSend}: the same frame with {@code Callback.NOOP} (an asynchronous send).</li>
 * </ul>
 * Jetty's session ({@code WebSocketCoreSession}) is not built: {@link Session} is an {@code OutgoingFrames} that hands
 * each entry to the flusher as the session does (the advised default method and the flusher are Jetty's). The same
 * benchmarks run in two classes whose forks differ only in {@code -javaagent:} ({@link NoAgent}, {@link WithAgent});
 * the advice's cost is the difference. A "with agent" fork first proves that each advice fires
 * ({@link AgentCheck#expectWebSocketAdvice}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class WebSocketSend {

    static final int PAYLOAD = 1024;

    private BenchWsEndpoint tomcat;
    private final ByteBuffer header = ByteBuffer.allocate(2);
    private final ByteBuffer payload = ByteBuffer.allocate(PAYLOAD);
    private final ByteBuffer[] buffers = {header, payload};
    private long results;
    private final SendHandler handler = result -> results++;
    private Session jetty;
    private Frame frame;

    protected abstract boolean withAgent();

    /** A Jetty flusher whose frames are written at once (or, {@code held}, never). */
    static final class Flusher extends WebSocketFlusher {
        private final boolean held;
        long frames;

        Flusher(boolean held) {
            this.held = held;
        }

        @Override
        protected boolean onFrame(OutgoingEntry entry, boolean batch) {
            frames++;
            if (!held) {
                entry.getCallback().succeeded();
            }
            return true;
        }
    }

    /** The session's part: its sends go through OutgoingFrames' default method and into its flusher. */
    static final class Session implements OutgoingFrames {
        final Flusher flusher;

        Session(Flusher flusher) {
            this.flusher = flusher;
        }

        @Override
        public void sendFrame(OutgoingEntry entry) {
            flusher.sendFrame(entry);
        }
    }

    static Frame binaryFrame() {
        return new Frame(OpCode.BINARY).setPayload(ByteBuffer.allocate(PAYLOAD));
    }

    @Setup
    public void setUp() {
        AgentCheck.expect(withAgent());
        AgentCheck.expectWebSocketAdvice(withAgent());
        tomcat = BenchWsEndpoint.create();
        jetty = new Session(new Flusher(false));
        frame = binaryFrame();
    }

    @Benchmark
    public long tomcatAsyncWrite() {
        header.clear();
        payload.clear();
        tomcat.write(handler, buffers);
        return results;
    }

    @Benchmark
    public long tomcatBlockingWrite() {
        header.clear();
        payload.clear();
        tomcat.writeBlocking(handler, buffers);
        return results;
    }

    @Benchmark
    public Void jettyBasicSend() throws InterruptedException, ExecutionException {
        FutureCallback done = new FutureCallback();
        jetty.sendFrame(frame, done, false);
        return done.get();
    }

    @Benchmark
    public long jettyAsyncSend() {
        jetty.sendFrame(frame, Callback.NOOP, false);
        return jetty.flusher.frames;
    }

    /** Plain containers. */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends WebSocketSend {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    /** With {@code -javaagent:} the highwater agent (export off: {@link BuildInfo#AGENT_ARGS}). */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends WebSocketSend {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

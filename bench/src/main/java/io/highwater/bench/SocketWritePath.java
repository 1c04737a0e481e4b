package io.highwater.bench;

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

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * 128-byte writes on the JDK's own sockets to a loopback peer that reads as fast as it can, so the kernel's send
 * buffer never fills and every write takes the socket layer's fast path: {@code socketStream} through a
 * {@code java.net.Socket}'s output stream ({@code NioSocketImpl.implWrite}: advice), {@code blockingChannel} through a
 * blocking {@code SocketChannel} ({@code write(ByteBuffer)}: advice). Each is one system call (a microsecond or
 * more); the same methods run in forks without ({@link NoAgent}) and with ({@link WithAgent}) the agent, and the
 * advice's cost is the difference, far below the run-to-run noise of a system call. {@link SocketAdvice} measures
 * the advice's own work alone.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class SocketWritePath {

    static final int SIZE = 128;

    private ServerSocket server;
    private Socket socket;
    private OutputStream stream;
    private Socket channelPeer;
    private SocketChannel channel;
    private ByteBuffer buffer;
    private final byte[] bytes = new byte[SIZE];
    private Thread[] readers;

    protected abstract boolean withAgent();

    @Setup
    public void setUp() throws IOException {
        AgentCheck.expect(withAgent());
        server = new ServerSocket(0, 2, InetAddress.getLoopbackAddress());
        socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket socketPeer = server.accept();
        stream = socket.getOutputStream();
        channel = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
        channelPeer = server.accept();
        buffer = ByteBuffer.allocateDirect(SIZE);
        readers = new Thread[] {drain(socketPeer), drain(channelPeer)};
    }

    private static Thread drain(Socket peer) {
        Thread t = new Thread(() -> {
            byte[] b = new byte[256 * 1024];
            try (InputStream in = peer.getInputStream()) {
                while (in.read(b) >= 0) {
                    // discard: a consumer that is never slow
                }
            } catch (IOException closed) {
                // the benchmark is over
            }
        }, "drain");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @TearDown
    public void tearDown() throws IOException, InterruptedException {
        socket.close();
        channel.close();
        channelPeer.close();
        server.close();
        for (Thread t : readers) {
            t.join(10_000);
        }
    }

    @Benchmark
    public void socketStream() throws IOException {
        stream.write(bytes, 0, SIZE);
    }

    @Benchmark
    public int blockingChannel() throws IOException {
        buffer.clear();
        return channel.write(buffer);
    }

    /** The JDK alone. */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends SocketWritePath {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    /** With {@code -javaagent:} the highwater agent (export off: {@link BuildInfo#AGENT_ARGS}). */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends SocketWritePath {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

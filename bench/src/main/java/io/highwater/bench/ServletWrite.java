package io.highwater.bench;

import org.apache.catalina.connector.CoyoteOutputStream;
import org.apache.catalina.connector.OutputBuffer;
import org.apache.coyote.Response;
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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The cost of the agent's servlet advice per application write: {@code ServletOutputStream.write(byte[], int, int)}
 * on Tomcat 11's own response stream ({@code CoyoteOutputStream} over its {@code OutputBuffer}, an 8 KiB response
 * buffer flushed into the coyote response), with the socket replaced by a sink that drops the bytes, so that the
 * write path is Tomcat's and nothing of the network is measured. The same benchmark runs in two classes whose forks
 * differ only in {@code -javaagent:} ({@link NoAgent}, {@link WithAgent}); the advice's cost is the difference.
 *
 * <ul>
 *   <li>{@code otherNotReady=false}: no stream in the JVM is not ready, the normal case: the advice reads one
 *       volatile counter.</li>
 *   <li>{@code otherNotReady=true}: some other async stream in the JVM is not ready right now (the agent's counter is
 *       raised for the fork, as {@code isReady() == false} elsewhere would): every write asks the agent whether
 *       <em>this</em> stream is one of them (an identity-map look-up). Without the agent the parameter changes
 *       nothing.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class ServletWrite {

    @Param({"16", "1024"})
    public int size;

    @Param({"false", "true"})
    public boolean otherNotReady;

    private CoyoteOutputStream out;
    private byte[] data;
    private boolean raised;

    protected abstract boolean withAgent();

    /** Tomcat's stream on a response of its own; the constructor is Tomcat's, protected. */
    static final class Stream extends CoyoteOutputStream {
        Stream(OutputBuffer ob) {
            super(ob);
        }
    }

    /** Where the coyote response would hand bytes to the connection: dropped. */
    static final class Sink implements org.apache.coyote.OutputBuffer {
        private long written;

        @Override
        public int doWrite(ByteBuffer chunk) {
            int n = chunk.remaining();
            chunk.position(chunk.limit());
            written += n;
            return n;
        }

        @Override
        public long getBytesWritten() {
            return written;
        }
    }

    static CoyoteOutputStream stream() {
        Response coyote = new Response();
        coyote.setOutputBuffer(new Sink());
        return new Stream(new OutputBuffer(8192, coyote));
    }

    @Setup
    public void setUp() {
        AgentCheck.expect(withAgent());
        AgentCheck.expectServletAdvice(withAgent());
        out = stream();
        data = new byte[size];
        if (otherNotReady && withAgent()) {
            AgentCheck.servletNotReady(+1);
            raised = true;
        }
    }

    @TearDown
    public void tearDown() {
        if (raised) {
            AgentCheck.servletNotReady(-1);
            raised = false;
        }
    }

    @Benchmark
    public void write() throws IOException {
        out.write(data, 0, size);
    }

    /** Plain Tomcat. */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends ServletWrite {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    /** Tomcat with {@code -javaagent:} the highwater agent (export off: {@link BuildInfo#AGENT_ARGS}). */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends ServletWrite {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

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
import org.openjdk.jmh.annotations.Warmup;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.TimeUnit;

/**
 * What the socket advice adds to one write on a socket that is not full, alone: {@code SocketWrites.begin} (claim
 * this thread's slot, note the sampler's tick) and {@code SocketWrites.end} (release it), the two calls the advice
 * inlines around {@code NioSocketImpl.implWrite} and a blocking {@code SocketChannel.write}, with the agent active
 * and its sampler running. Reached through constant method handles, which the JIT inlines like a direct call.
 * {@code baseline} is the same benchmark without the calls; {@code clockRead} is one clock read, for comparison.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
public class SocketAdvice {

    private static final MethodHandle BEGIN;
    private static final MethodHandle END;

    static {
        try {
            Class<?> writes = Class.forName("io.highwater.socket.bootstrap.SocketWrites", false, null);
            MethodHandles.Lookup l = MethodHandles.publicLookup();
            BEGIN = l.findStatic(writes, "begin", MethodType.methodType(Object.class, Object.class, long.class));
            END = l.findStatic(writes, "end", MethodType.methodType(void.class, Object.class, boolean.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("the agent's bootstrap helpers are not there: " + e);
        }
    }

    private final Object socket = new Object();

    @Setup
    public void setUp() throws Throwable {
        AgentCheck.expect(true);
        Class<?> writes = Class.forName("io.highwater.socket.bootstrap.SocketWrites", false, null);
        if (!writes.getField("active").getBoolean(null)) {
            throw new IllegalStateException("the socket layer is not active in this fork");
        }
        Object slot = BEGIN.invoke(socket, 128L);
        if (slot == null) {
            throw new IllegalStateException("this thread's slot could not be claimed: nothing would be measured");
        }
        END.invoke(slot, false);
    }

    @Benchmark
    public Object beginEnd() throws Throwable {
        Object slot = (Object) BEGIN.invokeExact(socket, 128L);
        if (slot != null) {
            END.invokeExact(slot, false);
        }
        return slot;
    }

    @Benchmark
    public Object baseline() {
        return socket;
    }

    /** One {@code System.nanoTime()}: timing every write would take two of these, the reason for the slots. */
    @Benchmark
    public long clockRead() {
        return System.nanoTime();
    }
}

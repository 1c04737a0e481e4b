package io.highwater.bench;

import io.grpc.internal.BenchGrpcStream;
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

import java.util.concurrent.TimeUnit;

/**
 * The cost of the agent's gRPC advice per message of a call that is ready (its queued bytes below gRPC's 32 KiB
 * on-ready threshold, the normal case): grpc-core's own accounting ({@code AbstractStream$TransportState}) counting
 * one 1 KiB message handed to the transport ({@code onSendingBytes}, where the advice reads two fields and compares)
 * and written out ({@code onSentBytes}, where it reads one volatile counter). The third piece of the advice, one
 * volatile read in {@code ServerCallImpl/ClientCallImpl.sendMessage}, is not in this loop. Two classes whose forks
 * differ only in {@code -javaagent:} ({@link NoAgent}, {@link WithAgent}); the advice's cost is the difference.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class GrpcMessagePath {

    private BenchGrpcStream stream;

    protected abstract boolean withAgent();

    @Setup
    public void setUp() {
        AgentCheck.expect(withAgent());
        AgentCheck.expectGrpcAdvice(withAgent());
        stream = new BenchGrpcStream();
    }

    @Benchmark
    public void message() {
        stream.sending(1024);
        stream.sent(1024);
    }

    /** Plain grpc-core. */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends GrpcMessagePath {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    /** grpc-core with {@code -javaagent:} the highwater agent (export off: {@link BuildInfo#AGENT_ARGS}). */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends GrpcMessagePath {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

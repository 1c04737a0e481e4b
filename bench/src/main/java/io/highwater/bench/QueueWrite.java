package io.highwater.bench;

import io.vertx.core.internal.EventExecutor;
import io.vertx.core.internal.concurrent.OutboundMessageQueue;
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
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Sinks;

import java.util.concurrent.TimeUnit;

/**
 * The cost of the vertx and reactor advice per application write on the writable path, on the libraries' own
 * classes: Vert.x 5's {@code OutboundMessageQueue.write} (the queue of every connection; here one whose consumer
 * takes each message at once, on its own thread, as a writable channel does) and reactor-core's
 * {@code Flux.create} sink {@code next} with a subscriber that asked for everything, a multicast sink's
 * {@code tryEmitNext} and an {@code onBackpressureBuffer()} operator's {@code onNext} in front of such a subscriber.
 * On that path the vertx advice reads the queue's unwritable counter and tests the returned boolean, the reactor
 * advice reads the demand (the multicast one tests the result, then whether its queue is empty). The
 * same benchmarks run in two classes whose forks differ only in {@code -javaagent:} ({@link NoAgent},
 * {@link WithAgent}); the advice's cost is the difference.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public abstract class QueueWrite {

    private OutboundMessageQueue<Object> queue;
    private FluxSink<Object> sink;
    private Sinks.Many<Object> multicast;
    private FluxSink<Object> buffered;
    private final Object message = new Object();
    private long consumed;

    protected abstract boolean withAgent();

    /** A queue whose consumer is this thread and takes every message: Vert.x's path to a writable channel. */
    static final class Queue extends OutboundMessageQueue<Object> {
        private final QueueWrite owner;

        Queue(EventExecutor executor, QueueWrite owner) {
            super(executor);
            this.owner = owner;
        }

        @Override
        public boolean test(Object message) {
            owner.consumed++;
            return true;
        }
    }

    @Setup
    public void setUp() {
        AgentCheck.expect(withAgent());
        queue = new Queue(new EventExecutor() {
            @Override
            public boolean inThread() {
                return true;
            }

            @Override
            public void execute(Runnable command) {
                command.run();
            }
        }, this);
        Flux.create(s -> sink = s).subscribe(takeEverything());
        multicast = Sinks.many().multicast().onBackpressureBuffer();
        multicast.asFlux().subscribe(takeEverything());
        // the sink upstream has demand (the operator requests everything): only the operator's onNext is judged
        Flux.create(s -> buffered = s).onBackpressureBuffer().subscribe(takeEverything());
    }

    private BaseSubscriber<Object> takeEverything() {
        return new BaseSubscriber<Object>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            protected void hookOnNext(Object value) {
                consumed++;
            }
        };
    }

    @Benchmark
    public boolean vertxQueueWrite() {
        return queue.write(message);
    }

    @Benchmark
    public void reactorCreateNext() {
        sink.next(message);
    }

    @Benchmark
    public Sinks.EmitResult reactorMulticastEmit() {
        return multicast.tryEmitNext(message);
    }

    /** {@code Flux.create} (advice on its next) through {@code onBackpressureBuffer()} (advice on its onNext). */
    @Benchmark
    public void reactorBufferNext() {
        buffered.next(message);
    }

    /** Plain libraries. */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
    public static class NoAgent extends QueueWrite {
        @Override
        protected boolean withAgent() {
            return false;
        }
    }

    /** With {@code -javaagent:} the highwater agent (export off: {@link BuildInfo#AGENT_ARGS}). */
    @Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", BuildInfo.JAVAAGENT})
    public static class WithAgent extends QueueWrite {
        @Override
        protected boolean withAgent() {
            return true;
        }
    }
}

package io.highwater.reactor.bootstrap;

import java.util.Queue;

/**
 * What the Reactor advice reports, on slow paths only. {@code owner} is the object that owns an unbounded queue of
 * elements its downstream has not asked for yet ({@code FluxCreate$BufferAsyncSink}, {@code SinkManyUnicast},
 * {@code FluxOnBackpressureBuffer$BackpressureBufferSubscriber}) or a multicast processor's queue, bounded or not
 * ({@code SinkManyEmitterProcessor}); typed {@code Object} so that this interface, on
 * the bootstrap class path, needs no Reactor class. Implementations never throw and are thread-safe.
 */
public interface ReactorHooks {

    /** The producer emits {@code element} into {@code owner}'s {@code queue} while the downstream demand is 0. */
    void nextWithoutDemand(Object owner, Queue<?> queue, Object element);

    /** {@code owner} refused {@code element}: the emission's result ({@code Sinks.EmitResult}) is not {@code OK}. */
    void emissionFailed(Object owner, Object result, Object element);

    /** Does nothing: installed before the agent is ready and after it detached. */
    ReactorHooks NOOP = new ReactorHooks() {
        @Override
        public void nextWithoutDemand(Object owner, Queue<?> queue, Object element) {
        }

        @Override
        public void emissionFailed(Object owner, Object result, Object element) {
        }
    };
}

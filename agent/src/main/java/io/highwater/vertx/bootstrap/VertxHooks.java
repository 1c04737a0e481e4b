package io.highwater.vertx.bootstrap;

/**
 * What the Vert.x advice reports, on slow paths only. Arguments are {@code Object} so that this interface, on the
 * bootstrap class path, needs no Vert.x or Netty class: {@code queue} is a Vert.x 5
 * {@code io.vertx.core.internal.concurrent.OutboundMessageQueue} (a connection's or an HTTP/2 stream's),
 * {@code connection} a Vert.x 4.5 {@code io.vertx.core.net.impl.ConnectionBase}. Implementations never throw and
 * are thread-safe: the queue takes writes from any thread.
 */
public interface VertxHooks {

    /** Vert.x 5: {@code message} (a {@code MessageWrite}) is about to be added to {@code queue} while it is full. */
    void writeWhileFull(Object queue, Object message);

    /** Vert.x 5: a write just turned {@code queue} full ({@code writeQueueFull()} is now true): its stop signal. */
    void queueFull(Object queue);

    /** Vert.x 5: {@code queue} drained below its low-water mark and is writable again: its go signal. */
    void queueDrained(Object queue);

    /** Vert.x 5: {@code queue} is closing with its connection or stream; what it still holds is never sent. */
    void queueClosed(Object queue);

    /** Vert.x 4.5: {@code message} is about to be written to {@code connection} while its channel is unwritable. */
    void writeWhileUnwritable(Object connection, Object message);

    /** Does nothing: installed before the agent is ready and after it detached. */
    VertxHooks NOOP = new VertxHooks() {
        @Override
        public void writeWhileFull(Object queue, Object message) {
        }

        @Override
        public void queueFull(Object queue) {
        }

        @Override
        public void queueDrained(Object queue) {
        }

        @Override
        public void queueClosed(Object queue) {
        }

        @Override
        public void writeWhileUnwritable(Object connection, Object message) {
        }
    };
}

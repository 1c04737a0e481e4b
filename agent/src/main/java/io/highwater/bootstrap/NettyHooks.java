package io.highwater.bootstrap;

/**
 * What the Netty advice reports. Called only on the slow path: while the channel is unwritable, on a
 * writability transition, and on close. Implementations must never throw (the advice suppresses
 * throwables anyway) and must be thread-safe: event loops and application threads call concurrently.
 *
 * <p>Arguments are typed {@code Object} so that this interface, which lives on the bootstrap class path,
 * needs no Netty class: {@code buffer} is an {@code io.netty.channel.ChannelOutboundBuffer},
 * {@code channel} its {@code io.netty.channel.Channel}.
 */
public interface NettyHooks {

    /**
     * A message of {@code size} is about to enter {@code buffer} while the channel is unwritable (on the event loop);
     * the buffer's pending bytes do not include it yet.
     */
    void writeWhileUnwritable(Object buffer, int size);

    /**
     * A write's size is being added to {@code buffer} while the channel is unwritable: a write submitted from
     * outside the event loop (application thread), unless this runs on the channel's event loop.
     */
    void submitWhileUnwritable(Object buffer);

    /** The channel's writability changed; {@code writable} is its state after the change. */
    void writabilityChanged(Object buffer, Object channel, boolean writable, long pending);

    /** {@code bytes} left the buffer for the socket while the channel was unwritable (on the event loop). */
    void drained(Object buffer, long bytes);

    /** The buffer is about to fail every queued message (the channel is closing, or a write failed). */
    void failing(Object buffer, long pending);

    /** The buffer is being closed with its channel; {@code pending} bytes were still queued. */
    void closed(Object buffer, long pending);

    /** Does nothing: installed before the agent is ready and after it detached. */
    NettyHooks NOOP = new NettyHooks() {
        @Override
        public void writeWhileUnwritable(Object buffer, int size) {
        }

        @Override
        public void submitWhileUnwritable(Object buffer) {
        }

        @Override
        public void writabilityChanged(Object buffer, Object channel, boolean writable, long pending) {
        }

        @Override
        public void drained(Object buffer, long bytes) {
        }

        @Override
        public void failing(Object buffer, long pending) {
        }

        @Override
        public void closed(Object buffer, long pending) {
        }
    };
}

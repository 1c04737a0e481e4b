package io.highwater.netty.bootstrap;

/**
 * What the Netty advice reports. Called only on the slow path: a write into a pipeline while its channel is
 * unwritable, a drain while it is unwritable, a writability transition, and close. Implementations must never throw (the advice suppresses
 * throwables anyway) and must be thread-safe: event loops and application threads call concurrently.
 *
 * <p>Arguments are typed {@code Object} so that this interface, which lives on the bootstrap class path,
 * needs no Netty class (and serves every copy of Netty, relocated ones included): {@code buffer} is a
 * {@code ChannelOutboundBuffer}, {@code channel} its {@code Channel}, {@code ctx} a {@code ChannelHandlerContext}.
 */
public interface NettyHooks {

    /**
     * The application, or a handler, is about to write {@code msg} into a pipeline through {@code ctx} (an
     * {@code AbstractChannelHandlerContext}: the writer's own context, or the pipeline's tail) while the channel says
     * stop ({@code isWritable()} is false). Called on the writing thread, before the write is handed on or submitted to
     * the event loop: the one moment at which the application's call and its frame are both there.
     */
    void writeWhileUnwritable(Object ctx, Object msg);

    /**
     * As {@link #writeWhileUnwritable(Object, Object)}, for a write that came with its {@code promise} (a
     * {@code ChannelPromise}). When the agent's guard refuses the write, it completes the promise as cancelled (with
     * its message), and Netty then drops the write and releases {@code msg} itself.
     */
    void writeWhileUnwritable(Object ctx, Object msg, Object promise);

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
        public void writeWhileUnwritable(Object ctx, Object msg) {
        }

        @Override
        public void writeWhileUnwritable(Object ctx, Object msg, Object promise) {
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

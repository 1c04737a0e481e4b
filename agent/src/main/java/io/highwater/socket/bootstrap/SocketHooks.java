package io.highwater.socket.bootstrap;

/**
 * What the socket advice reports, through {@link SocketWrites}. Called only on slow paths: a write that waits for
 * the kernel's send buffer (parked for POLLOUT, or found still running by the agent's sampler) and its end, a
 * non-blocking write that returned short, any non-blocking write while some channel waits, and a selector finding a
 * channel writable while some channel waits. Implementations must never throw and must be thread-safe.
 *
 * <p>{@code socket} is a {@code sun.nio.ch.NioSocketImpl} (behind {@code java.net.Socket}) or a
 * {@code java.nio.channels.SocketChannel}; typed {@code Object} because this interface lives on the bootstrap class
 * path and java.base calls it.
 */
public interface SocketHooks {

    /** The write running in {@code slot} on {@code socket} is about to park until the socket is writable. */
    void parked(Object socket, SocketWrites.Slot slot);

    /**
     * A write that was reported waiting (parked, or promoted by the sampler) returned, or any write of {@code bytes}
     * threw ({@code failed}: the peer went away, the socket was closed).
     */
    void writeEnded(Object socket, boolean failed, long bytes);

    /**
     * A write on a non-blocking channel handed over {@code written} bytes and left {@code left} behind; reported when
     * it left some, and for every write while {@link SocketWrites#nioWaiting} is not 0.
     */
    void nonBlockingWrite(Object channel, long written, long left);

    /** A selector processed {@code key} (a {@code SelectionKey}) while {@link SocketWrites#nioWaiting} is not 0. */
    void keyReady(Object key);

    /**
     * A write on {@code socket} threw {@code thrown} while {@link SocketWrites#refusing} is not 0: returns what the
     * application sees instead, the guard's {@code IOException} when the guard refused the socket's writes
     * ({@code highwater.guard.action=fail}), {@code thrown} otherwise.
     */
    Throwable refusal(Object socket, Throwable thrown);

    /** Does nothing: installed before the agent is ready and after it detached. */
    SocketHooks NOOP = new SocketHooks() {
        @Override
        public void parked(Object socket, SocketWrites.Slot slot) {
        }

        @Override
        public void writeEnded(Object socket, boolean failed, long bytes) {
        }

        @Override
        public void nonBlockingWrite(Object channel, long written, long left) {
        }

        @Override
        public void keyReady(Object key) {
        }

        @Override
        public Throwable refusal(Object socket, Throwable thrown) {
            return thrown;
        }
    };
}

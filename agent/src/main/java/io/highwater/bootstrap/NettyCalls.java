package io.highwater.bootstrap;

/**
 * What the Netty advice calls. Each advice is one field test and, on its slow path, one static call into here:
 * the advice is inlined into Netty's hottest methods, and C2 decides what to inline by bytecode size, so every byte
 * the advice adds to {@code addMessage} or {@code removeBytes} can change how the event loop is compiled
 * (BENCHMARKS.md, "Streaming"). The work, and the catching of anything thrown, happens here instead.
 */
public final class NettyCalls {

    private NettyCalls() {
    }

    /** See {@link NettyHooks#writeWhileUnwritable}. */
    public static void writeWhileUnwritable(Object buffer, int size) {
        try {
            Bridge.netty.writeWhileUnwritable(buffer, size);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link NettyHooks#submitWhileUnwritable}. */
    public static void submitWhileUnwritable(Object buffer) {
        try {
            Bridge.netty.submitWhileUnwritable(buffer);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link NettyHooks#writabilityChanged}; {@code unwritable} is the buffer's field after the change. */
    public static void writabilityChanged(Object buffer, Object channel, int unwritable, long pending) {
        try {
            Bridge.netty.writabilityChanged(buffer, channel, unwritable == 0, pending);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link NettyHooks#drained}; called while the channel is unwritable. */
    public static void drained(Object buffer, long bytes) {
        if (bytes > 0) {
            try {
                Bridge.netty.drained(buffer, bytes);
            } catch (Throwable t) {
                // never into the host's write
            }
        }
    }

    /** See {@link NettyHooks#failing}. */
    public static void failing(Object buffer, long pending) {
        if (pending > 0) {
            try {
                Bridge.netty.failing(buffer, pending);
            } catch (Throwable t) {
                // never into the host's close
            }
        }
    }

    /** See {@link NettyHooks#closed}. */
    public static void closed(Object buffer, long pending) {
        try {
            Bridge.netty.closed(buffer, pending);
        } catch (Throwable t) {
            // never into the host's close
        }
    }
}

package io.highwater.netty.bootstrap;

import jdk.internal.vm.annotation.DontInline;

/**
 * What the Netty advice calls. Each advice is one field test and, on its slow path, one static call into here:
 * the advice is inlined into Netty's hottest methods, and C2 decides what to inline by bytecode size, so every byte
 * the advice adds to {@code addMessage} or {@code removeBytes} can change how the event loop is compiled
 * (docs/benchmark-journal.md, "Streaming"). The work, and the catching of anything thrown, happens here instead.
 *
 * <p>None of these may be inlined into the caller. A slow path that runs often (every drain of a channel that
 * keeps crossing its water marks) is hot to C2, which would otherwise inline the whole agent behind it, registry
 * look-up included, into {@code removeBytes}: its compiled code then outgrows {@code InlineSmallCode} and Netty's
 * {@code doWrite} calls it instead of inlining it. {@code DontInline} keeps the slow path a plain call; the JVM
 * honours it here because these classes belong to the boot class loader.
 */
public final class NettyCalls {

    /** Never null: {@link NettyHooks#NOOP} when no agent is active. */
    public static volatile NettyHooks hooks = NettyHooks.NOOP;

    private NettyCalls() {
    }

    /** See {@link NettyHooks#writeWhileUnwritable}. */
    @DontInline
    public static void writeWhileUnwritable(Object ctx, Object msg) {
        try {
            hooks.writeWhileUnwritable(ctx, msg);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link NettyHooks#writeWhileUnwritable(Object, Object, Object)}. */
    @DontInline
    public static void writeWhileUnwritable(Object ctx, Object msg, Object promise) {
        try {
            hooks.writeWhileUnwritable(ctx, msg, promise);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link NettyHooks#writabilityChanged}; {@code unwritable} is the buffer's field after the change. */
    @DontInline
    public static void writabilityChanged(Object buffer, Object channel, int unwritable, long pending) {
        try {
            hooks.writabilityChanged(buffer, channel, unwritable == 0, pending);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link NettyHooks#drained}; called while the channel is unwritable. */
    @DontInline
    public static void drained(Object buffer, long bytes) {
        if (bytes > 0) {
            try {
                hooks.drained(buffer, bytes);
            } catch (Throwable t) {
                // never into the host's write
            }
        }
    }

    /** See {@link NettyHooks#failing}. */
    @DontInline
    public static void failing(Object buffer, long pending) {
        if (pending > 0) {
            try {
                hooks.failing(buffer, pending);
            } catch (Throwable t) {
                // never into the host's close
            }
        }
    }

    /** See {@link NettyHooks#closed}. */
    @DontInline
    public static void closed(Object buffer, long pending) {
        try {
            hooks.closed(buffer, pending);
        } catch (Throwable t) {
            // never into the host's close
        }
    }
}

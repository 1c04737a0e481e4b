package io.highwater.netty.bootstrap;

import jdk.internal.vm.annotation.DontInline;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

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

    /**
     * How many channels are unwritable now, as far as the agent knows (see {@code io.highwater.netty.UnwritableGate}):
     * the pipeline-write advice asks a channel for its writability only while this is not 0.
     */
    public static final AtomicInteger unwritableChannels = new AtomicInteger();

    /**
     * A counting filter over the identity hashes of those channels, kept by the agent with them (a
     * {@code GatedMap} of 4096 slots, same slot formula): a channel whose slot is 0 is certainly writable.
     */
    public static final AtomicIntegerArray unwritableFilter = new AtomicIntegerArray(4096);

    private NettyCalls() {
    }

    /**
     * The pipeline-write advice's call while some channel is unwritable ({@link #unwritableChannels} not 0): small
     * enough to be inlined into the advised method, one identity hash and one array read for a channel that is not
     * one of them (nearly every channel of a server with a few slow clients); the rest goes to the agent.
     */
    public static void entersPipeline(Object ctx, Object channel, Object msg) {
        if (mayBeUnwritable(channel)) {
            writeWhileUnwritable(ctx, msg);
        }
    }

    /** {@link #entersPipeline(Object, Object, Object)} with the write's promise (the guard may refuse the write). */
    public static void entersPipeline(Object ctx, Object channel, Object msg, Object promise) {
        if (mayBeUnwritable(channel)) {
            writeWhileUnwritable(ctx, msg, promise);
        }
    }

    /** False: {@code channel} is certainly not among the unwritable channels the agent knows. */
    public static boolean mayBeUnwritable(Object channel) {
        int h = System.identityHashCode(channel);
        return unwritableFilter.get((h ^ (h >>> 12)) & 4095) != 0;
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

package io.highwater.http2.bootstrap;

import jdk.internal.vm.annotation.DontInline;

/**
 * What the HTTP/2 advice calls: one call into here, which catches whatever the agent throws and is never inlined
 * into Netty's methods (see {@code NettyCalls} for why). See {@link Http2Hooks}.
 */
public final class Http2Calls {

    /**
     * Pending bytes of a stream in Netty's remote flow controller below which an enqueued frame goes no further than
     * the advice's compare: 64 KiB, the high-water mark a stream channel has by default. A constant, so that C2
     * folds it into {@code FlowState.enqueueFrame}; the slow path decides the rest (stop, tolerance, whose write).
     */
    public static final long FLOOR = 64 * 1024;

    /** Never null: {@link Http2Hooks#NOOP} when no agent is active. */
    public static volatile Http2Hooks hooks = Http2Hooks.NOOP;

    private Http2Calls() {
    }

    @DontInline
    public static void childWritabilityChanged(Object child) {
        try {
            hooks.childWritabilityChanged(child);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void headers(Object channel, int streamId, CharSequence path) {
        try {
            hooks.headers(channel, streamId, path);
        } catch (Throwable t) {
            // never into the host's read
        }
    }

    /** See {@link Http2Hooks#cancelled}; called only when the cancelled stream still holds bytes. */
    @DontInline
    public static void cancelled(Object flowState, long pendingBefore) {
        try {
            hooks.cancelled(flowState, pendingBefore);
        } catch (Throwable t) {
            // never into the host's close
        }
    }

    /** See {@link Http2Hooks#enqueued}; called when the stream already holds more than {@link #FLOOR}. */
    @DontInline
    public static void enqueued(Object flowState, Object frame, long pendingBefore) {
        try {
            hooks.enqueued(flowState, frame, pendingBefore);
        } catch (Throwable t) {
            // never into the host's write
        }
    }
}

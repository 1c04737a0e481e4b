package io.highwater.grpc.bootstrap;

import jdk.internal.vm.annotation.DontInline;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the gRPC advice calls: one counter test in the advice, then one call into here, which catches whatever the
 * agent throws and is never inlined into gRPC's methods (see {@code NettyCalls} for why). See {@link GrpcHooks}.
 */
public final class GrpcCalls {

    /** Never null: {@link GrpcHooks#NOOP} when no agent is active. */
    public static volatile GrpcHooks hooks = GrpcHooks.NOOP;

    /**
     * How many gRPC calls are not ready right now (their queued bytes reached the on-ready threshold and have not
     * fallen below it). The send advice reads this first and goes no further while it is 0: while every call is
     * ready, a message costs one volatile read. A hint, never the judgement: the slow path reads the call's state.
     */
    public static final AtomicInteger notReadyCalls = new AtomicInteger();

    private GrpcCalls() {
    }

    @DontInline
    public static void aboveThreshold(Object state, int queued) {
        try {
            hooks.aboveThreshold(state, queued);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    @DontInline
    public static void sent(Object state, int queued, int threshold) {
        try {
            hooks.sent(state, queued, threshold);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void deallocated(Object state, int queued) {
        try {
            hooks.deallocated(state, queued);
        } catch (Throwable t) {
            // never into the host's close
        }
    }

    @DontInline
    public static long beforeSend(Object call) {
        try {
            return hooks.beforeSend(call);
        } catch (Throwable t) {
            return -1;
        }
    }

    @DontInline
    public static void afterSend(Object call, long queuedBefore) {
        try {
            hooks.afterSend(call, queuedBefore);
        } catch (Throwable t) {
            // never into the host's send
        }
    }
}

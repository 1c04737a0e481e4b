package io.highwater.reactor.bootstrap;

import jdk.internal.vm.annotation.DontInline;

import java.util.Queue;

/**
 * What the Reactor advice calls: one static call per slow path, never inlined into Reactor's emission path (see
 * {@code NettyCalls} for why), catching anything the agent throws.
 */
public final class ReactorCalls {

    /** Never null: {@link ReactorHooks#NOOP} when no agent is active. */
    public static volatile ReactorHooks hooks = ReactorHooks.NOOP;

    private ReactorCalls() {
    }

    /** See {@link ReactorHooks#nextWithoutDemand}. */
    @DontInline
    public static void nextWithoutDemand(Object owner, Queue<?> queue, Object element) {
        try {
            hooks.nextWithoutDemand(owner, queue, element);
        } catch (Throwable t) {
            // never into the host's emission
        }
    }

    /** See {@link ReactorHooks#emissionFailed}. */
    @DontInline
    public static void emissionFailed(Object owner, Object result, Object element) {
        try {
            hooks.emissionFailed(owner, result, element);
        } catch (Throwable t) {
            // never into the host's emission
        }
    }
}

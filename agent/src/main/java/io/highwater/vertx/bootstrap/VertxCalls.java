package io.highwater.vertx.bootstrap;

import jdk.internal.vm.annotation.DontInline;

/**
 * What the Vert.x advice calls: one static call per slow path, never inlined into Vert.x's write path (see
 * {@code NettyCalls} for why), catching anything the agent throws.
 */
public final class VertxCalls {

    /** Never null: {@link VertxHooks#NOOP} when no agent is active. */
    public static volatile VertxHooks hooks = VertxHooks.NOOP;

    private VertxCalls() {
    }

    /** See {@link VertxHooks#writeWhileFull}. */
    @DontInline
    public static void writeWhileFull(Object queue, Object message) {
        try {
            hooks.writeWhileFull(queue, message);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link VertxHooks#queueFull}. */
    @DontInline
    public static void queueFull(Object queue) {
        try {
            hooks.queueFull(queue);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link VertxHooks#queueDrained}. */
    @DontInline
    public static void queueDrained(Object queue) {
        try {
            hooks.queueDrained(queue);
        } catch (Throwable t) {
            // never into the host's drain
        }
    }

    /** See {@link VertxHooks#queueClosed}. */
    @DontInline
    public static void queueClosed(Object queue) {
        try {
            hooks.queueClosed(queue);
        } catch (Throwable t) {
            // never into the host's close
        }
    }

    /** See {@link VertxHooks#writeWhileUnwritable}. */
    @DontInline
    public static void writeWhileUnwritable(Object connection, Object message) {
        try {
            hooks.writeWhileUnwritable(connection, message);
        } catch (Throwable t) {
            // never into the host's write
        }
    }
}

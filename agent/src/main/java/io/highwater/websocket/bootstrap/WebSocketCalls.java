package io.highwater.websocket.bootstrap;

import jdk.internal.vm.annotation.DontInline;

/**
 * What the WebSocket advice calls: one static call per slow path, never inlined into the container's send path (see
 * {@code NettyCalls} for why), catching anything the agent throws.
 */
public final class WebSocketCalls {

    /** Never null: {@link WebSocketHooks#NOOP} when no agent is active. */
    public static volatile WebSocketHooks hooks = WebSocketHooks.NOOP;

    /**
     * How many tracked sends wait for completion right now (a hint, kept by the agent): while 0, the completion
     * advice, which runs once per message, makes no call at all.
     */
    public static volatile int waiting;

    /**
     * Non-zero while the agent remembers Jetty sends whose future was not done when the send returned (a hint): while
     * 0, the advice on Jetty's {@code FutureCallback} waits makes no call at all.
     */
    public static volatile int blockingSends;

    /**
     * Non-zero while a Tomcat {@code RemoteEndpoint.Basic} send waits for its socket (a hint, kept by the agent):
     * while 0, the end of every blocking write makes no call at all.
     */
    public static volatile int tomcatBlocking;

    private WebSocketCalls() {
    }

    /** See {@link WebSocketHooks#tomcatSendRefused}. */
    @DontInline
    public static void tomcatSendRefused(Object endpoint, Object payload, Throwable thrown) {
        try {
            hooks.tomcatSendRefused(endpoint, payload, thrown);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    /** See {@link WebSocketHooks#tomcatWritePending}. */
    @DontInline
    public static void tomcatWritePending(Object endpoint, Object[] buffers) {
        try {
            hooks.tomcatWritePending(endpoint, buffers);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    /** See {@link WebSocketHooks#tomcatWriteDone}. */
    @DontInline
    public static void tomcatWriteDone(Object endpoint) {
        try {
            hooks.tomcatWriteDone(endpoint);
        } catch (Throwable t) {
            // never into the host's completion
        }
    }

    /** See {@link WebSocketHooks#tomcatSocketWaits}. */
    @DontInline
    public static void tomcatSocketWaits(Object operation) {
        try {
            hooks.tomcatSocketWaits(operation);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** See {@link WebSocketHooks#tomcatBlockingEnds}. */
    @DontInline
    public static void tomcatBlockingEnds(Object endpoint) {
        try {
            hooks.tomcatBlockingEnds(endpoint);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    /** See {@link WebSocketHooks#jettySendPending}. */
    @DontInline
    public static void jettySendPending(Object session, Object future) {
        try {
            hooks.jettySendPending(session, future);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    /** See {@link WebSocketHooks#jettyBlockingBegins}. */
    @DontInline
    public static long jettyBlockingBegins(Object future) {
        try {
            return hooks.jettyBlockingBegins(future);
        } catch (Throwable t) {
            return 0; // never into the host's wait
        }
    }

    /** See {@link WebSocketHooks#jettyBlockingEnds}. */
    @DontInline
    public static void jettyBlockingEnds(Object future, long token) {
        try {
            hooks.jettyBlockingEnds(future, token);
        } catch (Throwable t) {
            // never into the host's wait
        }
    }

    /** See {@link WebSocketHooks#jettySendWhileQueued}. */
    @DontInline
    public static void jettySendWhileQueued(Object flusher, Object entry) {
        try {
            hooks.jettySendWhileQueued(flusher, entry);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    /** See {@link WebSocketHooks#jettyEntryDone}. */
    @DontInline
    public static void jettyEntryDone(Object flusher) {
        try {
            hooks.jettyEntryDone(flusher);
        } catch (Throwable t) {
            // never into the host's completion
        }
    }

    /** See {@link WebSocketHooks#springBuffering}. */
    @DontInline
    public static void springBuffering(Object decorator) {
        try {
            hooks.springBuffering(decorator);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    /** See {@link WebSocketHooks#springFlushed}. */
    @DontInline
    public static void springFlushed(Object decorator) {
        try {
            hooks.springFlushed(decorator);
        } catch (Throwable t) {
            // never into the host's send
        }
    }

    /** See {@link WebSocketHooks#springLimitExceeded}. */
    @DontInline
    public static void springLimitExceeded(Object decorator, String reason) {
        try {
            hooks.springLimitExceeded(decorator, reason);
        } catch (Throwable t) {
            // never into the host's send
        }
    }
}

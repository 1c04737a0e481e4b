package io.highwater.servlet.bootstrap;

import jdk.internal.vm.annotation.DontInline;

/**
 * What the servlet advice calls: the advice tests a counter or a flag and makes one call into here, which catches
 * whatever the agent throws and is never inlined into the container's method, for the reason given on
 * {@link NettyCalls}. See {@link ServletHooks} for what each one reports.
 */
public final class ServletCalls {

    /** Never null: {@link ServletHooks#NOOP} when no agent is active. */
    public static volatile ServletHooks hooks = ServletHooks.NOOP;

    /**
     * How many servlet output streams are not ready right now ({@code isReady()} returned false and no later call
     * returned true). The servlet write advice reads this first and goes no further while it is 0: no per-write
     * look-up while no stream is not ready.
     */
    public static final java.util.concurrent.atomic.AtomicInteger notReadyStreams =
            new java.util.concurrent.atomic.AtomicInteger();

    /** How many threads are waiting for a container socket inside a blocking write right now (Tomcat). */
    public static final java.util.concurrent.atomic.AtomicInteger blockedThreads =
            new java.util.concurrent.atomic.AtomicInteger();

    private ServletCalls() {
    }

    @DontInline
    public static void notReady(Object stream) {
        try {
            hooks.notReady(stream);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void ready(Object stream) {
        try {
            hooks.ready(stream);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** True when the write was judged an ignored write (see {@link ServletHooks#writeWhileNotReady}). */
    @DontInline
    public static boolean writeWhileNotReady(Object stream, long bytes) {
        try {
            return hooks.writeWhileNotReady(stream, bytes);
        } catch (Throwable t) {
            return false;
        }
    }

    @DontInline
    public static void writeRefused(Object stream, long bytes, Throwable thrown) {
        try {
            hooks.writeRefused(stream, bytes, thrown);
        } catch (Throwable t) {
            // never into the host's write: its own throwable goes on
        }
    }

    @DontInline
    public static void recycled(Object stream) {
        try {
            hooks.recycled(stream);
        } catch (Throwable t) {
            // never into the host's recycling
        }
    }

    @DontInline
    public static void socketWaitBegins(Object socket) {
        try {
            hooks.socketWaitBegins(socket);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void socketWriteReturned(Object socket, boolean failed) {
        try {
            hooks.socketWriteReturned(socket, failed);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** Returns the token for {@link #blockingWriteEnds}; 0 when there is nothing to end (or the agent failed). */
    @DontInline
    public static long blockingWriteBegins(Object stream, long bytes) {
        try {
            return hooks.blockingWriteBegins(stream, bytes);
        } catch (Throwable t) {
            return 0;
        }
    }

    @DontInline
    public static void blockingWriteEnds(Object stream, long token, boolean failed) {
        try {
            hooks.blockingWriteEnds(stream, token, failed);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void arrayWriteBegins(Object outputBuffer, byte[] array, int off, int len) {
        try {
            hooks.arrayWriteBegins(outputBuffer, array, off, off + len);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void arraySlice(Object outputBuffer, java.nio.ByteBuffer slice) {
        try {
            hooks.arraySlice(outputBuffer, slice);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void arrayWriteEnds(Object outputBuffer) {
        try {
            hooks.arrayWriteEnds(outputBuffer);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void slicedAsyncWrite(Object stream, Object write) {
        try {
            hooks.slicedAsyncWrite(stream, write);
        } catch (Throwable t) {
            // never into the host's write
        }
    }
}

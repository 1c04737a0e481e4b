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
     * returned true), plus the transports whose writes the guard refused ({@code highwater.guard.action=fail}). The
     * servlet write advice reads this first and goes no further while it is 0: no per-write look-up while no stream
     * is not ready and no connection refused.
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

    /** What {@link #judge} returns for a write it judged an ignored write (the stream was not ready). */
    public static final int JUDGED = -1;
    /**
     * What {@link #judge} returns for a write the guard refused: the advice empties the write (the container writes
     * nothing) and its exit throws the guard's {@code IOException} ({@link #writeEnds}).
     */
    public static final int REFUSED = -2;

    /**
     * A write of {@code bytes} while the gate is open: {@link #REFUSED} when the guard refused the stream's
     * connection, {@link #JUDGED} when it was judged an ignored write (see {@link ServletHooks#writeWhileNotReady}),
     * else {@code bytes} (not judged).
     */
    @DontInline
    public static int judge(Object stream, int bytes) {
        try {
            if (hooks.refuses(stream)) {
                return REFUSED;
            }
            return hooks.writeWhileNotReady(stream, bytes) ? JUDGED : bytes;
        } catch (Throwable t) {
            return bytes;
        }
    }

    /**
     * The end of a write that threw ({@code unjudged} is its bytes, or {@link #JUDGED}) or that the guard refused
     * ({@code unjudged} is {@link #REFUSED}): returns what the write throws. A refused write throws the guard's
     * {@code IOException} (never nothing: its bytes were not written); any other write throws its own {@code thrown},
     * after a refusal by the container was reported ({@link ServletHooks#writeRefused}).
     */
    @DontInline
    public static Throwable writeEnds(Object stream, int unjudged, Throwable thrown) {
        if (unjudged == REFUSED) {
            java.io.IOException refusal = null;
            try {
                refusal = hooks.refusal(stream, thrown);
            } catch (Throwable t) {
                // below
            }
            return refusal != null ? refusal
                    : new java.io.IOException("highwater guard: write refused (highwater.guard.action=fail)", thrown);
        }
        if (thrown != null && unjudged >= 0) {
            try {
                hooks.writeRefused(stream, unjudged, thrown);
            } catch (Throwable t) {
                // never into the host's write: its own throwable goes on
            }
        }
        return thrown;
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

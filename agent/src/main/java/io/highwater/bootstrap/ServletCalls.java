package io.highwater.bootstrap;

import jdk.internal.vm.annotation.DontInline;

/**
 * What the servlet advice calls: the advice tests a counter or a flag and makes one call into here, which catches
 * whatever the agent throws and is never inlined into the container's method, for the reason given on
 * {@link NettyCalls}. See {@link ServletHooks} for what each one reports.
 */
public final class ServletCalls {

    private ServletCalls() {
    }

    @DontInline
    public static void notReady(Object stream) {
        try {
            Bridge.servlet.notReady(stream);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void ready(Object stream) {
        try {
            Bridge.servlet.ready(stream);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** True when the write was judged an ignored write (see {@link ServletHooks#writeWhileNotReady}). */
    @DontInline
    public static boolean writeWhileNotReady(Object stream, long bytes) {
        try {
            return Bridge.servlet.writeWhileNotReady(stream, bytes);
        } catch (Throwable t) {
            return false;
        }
    }

    @DontInline
    public static void writeRefused(Object stream, long bytes, Throwable thrown) {
        try {
            Bridge.servlet.writeRefused(stream, bytes, thrown);
        } catch (Throwable t) {
            // never into the host's write: its own throwable goes on
        }
    }

    @DontInline
    public static void recycled(Object stream) {
        try {
            Bridge.servlet.recycled(stream);
        } catch (Throwable t) {
            // never into the host's recycling
        }
    }

    @DontInline
    public static void socketWaitBegins(Object socket) {
        try {
            Bridge.servlet.socketWaitBegins(socket);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void socketWriteReturned(Object socket, boolean failed) {
        try {
            Bridge.servlet.socketWriteReturned(socket, failed);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** Returns the token for {@link #blockingWriteEnds}; 0 when there is nothing to end (or the agent failed). */
    @DontInline
    public static long blockingWriteBegins(Object stream, long bytes) {
        try {
            return Bridge.servlet.blockingWriteBegins(stream, bytes);
        } catch (Throwable t) {
            return 0;
        }
    }

    @DontInline
    public static void blockingWriteEnds(Object stream, long token, boolean failed) {
        try {
            Bridge.servlet.blockingWriteEnds(stream, token, failed);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void arrayWriteBegins(Object outputBuffer, byte[] array, int off, int len) {
        try {
            Bridge.servlet.arrayWriteBegins(outputBuffer, array, off, off + len);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void arraySlice(Object outputBuffer, java.nio.ByteBuffer slice) {
        try {
            Bridge.servlet.arraySlice(outputBuffer, slice);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void arrayWriteEnds(Object outputBuffer) {
        try {
            Bridge.servlet.arrayWriteEnds(outputBuffer);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void slicedAsyncWrite(Object stream, Object write) {
        try {
            Bridge.servlet.slicedAsyncWrite(stream, write);
        } catch (Throwable t) {
            // never into the host's write
        }
    }
}

package com.example.export;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Stands for a servlet application in the servlet advice tests (its package is not one the agent treats as a
 * framework): writes to a container's stream and catches what the container throws, as an application that never
 * asks {@code isReady()} would.
 */
public final class StreamExport {

    private StreamExport() {
    }

    /** What the stream did with the writes: {@code [accepted, refused (IllegalStateException), failed (IOException)]}. */
    public static int[] writeRows(OutputStream out, int writes, int bytes) {
        int[] outcome = new int[3];
        for (int i = 0; i < writes; i++) {
            try {
                out.write(new byte[bytes], 0, bytes);
                outcome[0]++;
            } catch (IllegalStateException e) {
                outcome[1]++;
            } catch (IOException e) {
                outcome[2]++;
            }
        }
        return outcome;
    }

    /** One {@code write(int)}; returns what it threw, or null. */
    public static Throwable writeByte(OutputStream out) {
        try {
            out.write(1);
            return null;
        } catch (IOException | RuntimeException e) {
            return e;
        }
    }

    /** One {@code write(ByteBuffer)} (Servlet 6.1, Undertow's own), found by name; returns what it threw, or null. */
    public static Throwable writeBuffer(OutputStream out, int bytes) throws ReflectiveOperationException {
        Method write = out.getClass().getMethod("write", ByteBuffer.class);
        try {
            write.invoke(out, ByteBuffer.allocate(bytes));
            return null;
        } catch (java.lang.reflect.InvocationTargetException e) {
            return e.getCause();
        }
    }
}

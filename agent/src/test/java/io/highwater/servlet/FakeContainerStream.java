package io.highwater.servlet;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritePendingException;

/**
 * A container's output stream reduced to what the servlet advice sees: {@code isReady()}, the three {@code write}s,
 * a write listener field (set: async mode, as Jetty's and Undertow's streams keep it) and a script of what each write
 * does. {@link ServletAdviceTest} transforms it with the agent's real advice.
 */
public class FakeContainerStream extends OutputStream {

    /** Non-null: the stream is in async mode. */
    public Object listener;
    /** What {@code isReady()} answers. */
    public boolean ready = true;
    /**
     * What each coming write does, one letter each: {@code a} accepts it, {@code r} refuses it as not ready
     * ({@code IllegalStateException}), {@code p} as pending ({@code WritePendingException}), {@code f} fails it as
     * the client went away ({@code IOException}). Accepts once the script is used up.
     */
    public String script = "";
    private int next;
    /** The bytes the writes handed to this stream, all writes together (what the container would have taken). */
    public long bytesGiven;

    public boolean isReady() {
        return ready;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        bytesGiven += len;
        act();
    }

    @Override
    public void write(int b) throws IOException {
        bytesGiven++;
        act();
    }

    public void write(ByteBuffer buffer) throws IOException {
        bytesGiven += buffer.remaining();
        act();
        buffer.position(buffer.limit());
    }

    private void act() throws IOException {
        char c = next < script.length() ? script.charAt(next) : 'a';
        next++;
        switch (c) {
            case 'r':
                throw new IllegalStateException("not ready");
            case 'p':
                throw new WritePendingException();
            case 'f':
                throw new IOException("client gone");
            default:
                break;
        }
    }
}

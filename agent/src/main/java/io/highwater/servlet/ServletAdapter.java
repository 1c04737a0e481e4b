package io.highwater.servlet;

import io.highwater.servlet.bootstrap.ServletCalls;
import io.highwater.base.IdentityKey;
import io.highwater.servlet.bootstrap.ServletHooks;
import io.highwater.core.BlockedWrite;
import io.highwater.core.Clock;
import io.highwater.core.GatedMap;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Monitor;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Translates what the servlet advice sees into the neutral model.
 *
 * <p><b>Async</b> (a stream with a {@code WriteListener}): stop is {@code isReady()} returning false, go the next
 * {@code isReady()} returning true (what {@code onWritePossible} sees); a write in between is an ignored write of
 * signal {@code output_not_ready}. The streams that are not ready are held weakly here, and their number is
 * mirrored in {@code ServletCalls.notReadyStreams}, which the write advice reads first. A write the container refuses
 * ({@code IllegalStateException}, which {@code WritePendingException} is, on a stream in async mode) is an ignored
 * write too, whether or not the application asked {@code isReady()}: the containers refuse a write made while they
 * are not ready, or while the previous async write has not completed. Each application write is judged at most once
 * (the advice reports a refusal only for a write it did not judge on entry); one that fails with an
 * {@code IOException} (the client went away) is not ignored backpressure.
 *
 * <p><b>Blocking</b>: Tomcat (NIO connector): the wait runs from the moment a blocking write finds the socket full
 * and waits on its write lock to the return of that write. Jetty: a blocking channel write (one per buffer handed
 * to the connection) that lasts at least {@link #BLOCKING_MIN_NANOS} is a wait; the agent's timer registers the
 * ones still running, so that threads blocked right now are counted as blocked connections.
 */
public final class ServletAdapter implements ServletHooks, WritesInProgress {

    /** A blocking channel write shorter than this is not a wait (Jetty, where the duration is all there is). */
    public static final long BLOCKING_MIN_NANOS = 1_000_000L;

    private final Monitor monitor;
    private final ConnectionRegistry registry;
    private final Clock clock;
    private final ServletAccess access;
    private final Tracker tracker;
    /** Streams that are not ready: weak keys, swept by {@link #tick()}; gate of every servlet write's advice. */
    private final GatedMap<Boolean> notReady;
    /**
     * The transports (streams, Tomcat sockets) whose writes the guard refused ({@code highwater.guard.action=fail}),
     * with the message their writes fail with: weak keys, dropped when the stream is recycled, the transport closes
     * or is collected. Mirrored into the same gate as {@link #notReady}, so that the write advice goes to its slow
     * path for them while no stream is not ready; bounded by the registry's cap on tracked connections, from which
     * the guard chooses them.
     */
    private final GatedMap<String> refused;
    /** Tomcat socket wrappers whose writing thread waits right now: removed by that thread. */
    private final GatedMap<Boolean> blockedSockets;
    /** Jetty blocking channel writes in progress: removed by the writing thread. */
    private final ConcurrentHashMap<Object, BlockedWrite> inFlight = new ConcurrentHashMap<>();
    /** Tomcat: application arrays being passed down in slices, by response buffer; removed by the writing thread. */
    private final ConcurrentHashMap<Object, ArrayWrite> arrayWrites = new ConcurrentHashMap<>();
    /**
     * Jetty: the last sliced async write of each stream (weak keys; weak values, as the write refers to its stream),
     * replaced by the next one, dropped when the stream is recycled or collected. A completed write has nothing left
     * to slice off, so a stale entry counts 0.
     */
    private final ConcurrentHashMap<Object, WeakReference<Object>> slicedWrites = new ConcurrentHashMap<>();

    /** An application array that Tomcat passes down in slices without copying it. */
    static final class ArrayWrite {
        final byte[] array;
        final int off;
        final int end;
        /** The slice being handed to the connection; null before the first. */
        volatile ByteBuffer slice;

        ArrayWrite(byte[] array, int off, int end) {
            this.array = array;
            this.off = off;
            this.end = end;
        }

        /**
         * Bytes not taken by the connection yet: from the current slice's position (what the socket's write buffer
         * took of it is counted there) to the end of the write. Nothing before the first slice: until then the
         * bytes ahead of it are Tomcat's own buffer, flushed first.
         */
        long rest() {
            ByteBuffer b = slice;
            if (b == null) {
                return 0;
            }
            // another thread's position, read without a lock: clamped into the write
            int pos = Math.max(off, Math.min(end, b.position()));
            return end - pos;
        }
    }

    public ServletAdapter(Monitor monitor) {
        this.monitor = monitor;
        this.registry = monitor.registry();
        this.clock = monitor.clock();
        this.refused = new GatedMap<>(ServletCalls.notReadyStreams, true, Math.max(monitor.registry().max(), 1));
        this.access = new ServletAccess(this, ServletIntegration.PARTS, this::refuse);
        this.tracker = monitor.tracker(ServletIntegration.LAYER, access);
        // a stream that is not ready costs an entry whether or not the registry has room to track its connection:
        // its writes are still judged and counted
        int max = Math.max(monitor.registry().max(), 100_000);
        this.notReady = new GatedMap<>(ServletCalls.notReadyStreams, true, max);
        this.blockedSockets = new GatedMap<>(ServletCalls.blockedThreads, false, max);
    }

    // ---------------------------------------------------------------- async

    @Override
    public void notReady(Object stream) {
        notReady.add(stream, Boolean.TRUE);
        TrackedConnection c = track(stream, true);
        if (c != null) {
            monitor.stop(c, access.pendingBytes(stream));
        }
    }

    @Override
    public void ready(Object stream) {
        if (notReady.remove(stream) != null) {
            TrackedConnection c = registry.get(stream);
            if (c != null) {
                monitor.go(c);
            }
        }
    }

    @Override
    public boolean writeWhileNotReady(Object stream, long bytes) {
        if (!notReady.contains(stream)) {
            return false;
        }
        TrackedConnection c = track(stream, false);
        if (c != null) {
            if (!c.isWaiting()) {
                monitor.stop(c, access.pendingBytes(stream));
            }
        }
        monitor.ignoredWrite(c, ServletIntegration.OUTPUT_NOT_READY, bytes);
        return true;
    }

    /**
     * Not a stop signal of its own: the application that never asks {@code isReady()} never sees the go signal
     * either, so no wait begins here; the connection is tracked (its pending bytes, its episode) and the write
     * counted.
     */
    @Override
    public void writeRefused(Object stream, long bytes, Throwable thrown) {
        if (!(thrown instanceof IllegalStateException) || access.isBlocking(stream)) {
            return;
        }
        monitor.ignoredWrite(track(stream, false), ServletIntegration.OUTPUT_NOT_READY, bytes);
    }

    // ---------------------------------------------------------------- the guard's fail

    /**
     * The guard refused the writes of {@code transport}'s connection: from now on a write of the stream (or, for a
     * Tomcat socket, of the stream writing to it) is emptied and fails with an {@code IOException} carrying
     * {@code message}. Whether the transport is refused now (false: the table is full).
     */
    boolean refuse(Object transport, String message) {
        return refused.add(transport, message) || refused.contains(transport);
    }

    /** The guard's message for {@code stream}'s writes, or null when they are not refused. */
    private String refusalOf(Object stream) {
        if (refused.isEmpty()) {
            return null;
        }
        String m = refused.get(stream);
        if (m != null) {
            return m;
        }
        Object connection = access.connectionOf(stream);
        return connection == null ? null : refused.get(connection);
    }

    @Override
    public boolean refuses(Object stream) {
        return refusalOf(stream) != null;
    }

    @Override
    public IOException refusal(Object stream, Throwable thrown) {
        String m = refusalOf(stream);
        return new IOException(m != null ? m : "highwater guard: write refused", thrown);
    }

    @Override
    public void recycled(Object stream) {
        if (!refused.isEmpty()) {
            // the container reuses the stream for the next response, which the guard did not refuse
            refused.remove(stream);
        }
        if (!slicedWrites.isEmpty()) {
            slicedWrites.remove(new IdentityKey.Strong(stream));
        }
        if (notReady.remove(stream) != null) {
            TrackedConnection c = registry.get(stream);
            if (c != null) {
                monitor.closed(c, 0);
            }
        }
    }

    // ---------------------------------------------------------------- blocking: Tomcat's socket wait

    @Override
    public void socketWaitBegins(Object socket) {
        TrackedConnection c = track(socket, true);
        if (c == null) {
            return;
        }
        if (blockedSockets.add(socket, Boolean.TRUE)) {
            monitor.stop(c, 0);
        } else {
            // woken because the socket drained, wrote, and found it full again
            monitor.progress(c);
        }
    }

    @Override
    public void socketWriteReturned(Object socket, boolean failed) {
        if (blockedSockets.remove(socket) != null) {
            TrackedConnection c = registry.get(socket);
            if (c != null) {
                monitor.blockingWriteReturned(c, failed, access.pendingBytes(socket));
            }
        }
    }

    // ---------------------------------------------------------------- blocking: Jetty's channel write

    @Override
    public long blockingWriteBegins(Object stream, long bytes) {
        long now = clock.nanoTime();
        long token = now == 0 ? 1 : now;
        inFlight.put(new IdentityKey.Strong(stream), new BlockedWrite(token, bytes));
        return token;
    }

    @Override
    public void blockingWriteEnds(Object stream, long token, boolean failed) {
        if (token == 0) {
            return;
        }
        BlockedWrite w = inFlight.remove(new IdentityKey.Strong(stream));
        if (w == null) {
            return;
        }
        if (w.end()) {
            TrackedConnection c = registry.get(stream);
            if (c != null) {
                // the write's own bytes left the in-flight table above, so they are added back here
                monitor.blockingWriteReturned(c, failed, w.bytes() + Math.max(0, access.pendingBytes(stream)));
                return;
            }
        }
        long took = clock.nanoTime() - w.startNanos();
        if (took >= BLOCKING_MIN_NANOS) {
            monitor.waited(ServletIntegration.LAYER, took);
        }
    }

    @Override
    public long blocking(Object stream) {
        if (inFlight.isEmpty()) {
            return 0;
        }
        BlockedWrite w = inFlight.get(new IdentityKey.Strong(stream));
        return w == null ? 0 : w.bytes();
    }

    // ---------------------------------------------------------------- the application's bytes inside a write

    @Override
    public void arrayWriteBegins(Object outputBuffer, byte[] array, int off, int end) {
        arrayWrites.put(new IdentityKey.Strong(outputBuffer), new ArrayWrite(array, off, end));
    }

    @Override
    public void arraySlice(Object outputBuffer, ByteBuffer slice) {
        if (arrayWrites.isEmpty()) {
            return;
        }
        ArrayWrite w = arrayWrites.get(new IdentityKey.Strong(outputBuffer));
        if (w != null && slice.array() == w.array) {
            w.slice = slice;
        }
    }

    @Override
    public void arrayWriteEnds(Object outputBuffer) {
        arrayWrites.remove(new IdentityKey.Strong(outputBuffer));
    }

    @Override
    public List<Object> arrayWriters() {
        if (arrayWrites.isEmpty()) {
            return Collections.emptyList();
        }
        List<Object> out = new ArrayList<>();
        for (Object k : arrayWrites.keySet()) {
            out.add(((IdentityKey.Strong) k).referent);
        }
        return out;
    }

    @Override
    public long arrayRest(Object outputBuffer) {
        if (arrayWrites.isEmpty()) {
            return 0;
        }
        ArrayWrite w = arrayWrites.get(new IdentityKey.Strong(outputBuffer));
        return w == null ? 0 : w.rest();
    }

    @Override
    public void slicedAsyncWrite(Object stream, Object write) {
        slicedWrites.put(new IdentityKey.Weak(stream), new WeakReference<>(write));
    }

    @Override
    public Object slicedWriteOf(Object stream) {
        if (slicedWrites.isEmpty()) {
            return null;
        }
        WeakReference<Object> w = slicedWrites.get(new IdentityKey.Strong(stream));
        return w == null ? null : w.get();
    }

    /**
     * The agent's timer: blocking writes running for at least {@link #BLOCKING_MIN_NANOS} become waits of their
     * connection (blocked right now), and not-ready streams that were collected stop counting.
     */
    public void tick() {
        long now = clock.nanoTime();
        for (Map.Entry<Object, BlockedWrite> e : inFlight.entrySet()) {
            BlockedWrite w = e.getValue();
            if (now - w.startNanos() < BLOCKING_MIN_NANOS || !w.promote()) {
                continue;
            }
            Object stream = ((IdentityKey.Strong) e.getKey()).referent;
            TrackedConnection c = track(stream, true);
            if (c != null) {
                monitor.stopSince(c, access.pendingBytes(stream), w.startNanos());
            }
        }
        for (Iterator<Map.Entry<Object, WeakReference<Object>>> it = slicedWrites.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Object, WeakReference<Object>> e = it.next();
            if (((IdentityKey.Weak) e.getKey()).get() == null || e.getValue().get() == null) {
                it.remove();
            }
        }
        notReady.sweep();
        refused.sweep();
        if (!refused.isEmpty()) {
            for (Object t : refused.keys()) {
                if (!access.isOpen(t)) {
                    // closed: no write of it can come; the gate closes sooner than the collector would make it
                    refused.remove(t);
                }
            }
        }
    }

    /** Turns the hooks' global counters back to 0 (this agent is going away). */
    public void reset() {
        notReady.clear();
        refused.clear();
        blockedSockets.clear();
        inFlight.clear();
        arrayWrites.clear();
        slicedWrites.clear();
    }

    private TrackedConnection track(Object transport, boolean atStopSignal) {
        return tracker.track(transport, atStopSignal);
    }
}

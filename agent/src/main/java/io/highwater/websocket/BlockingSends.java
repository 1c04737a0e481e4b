package io.highwater.websocket;

import io.highwater.core.BlockedWrite;
import io.highwater.core.Monitor;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The blocking sends of one container ({@code RemoteEndpoint.Basic} and the like) while their threads wait: shared
 * by Tomcat's and Jetty's paths, which differ only in what names a send and how its bytes are read ({@link Side}).
 * A send still running at the agent's timer, {@link #MIN_NANOS} or more after it began, is a wait of its connection
 * from its start (stop), until it returns (go, or a close when it failed); its episode names the application's
 * call, read from the blocked thread's stack. A shorter one goes to the drain-wait histogram only, as the servlet
 * layer's short blocking writes.
 */
final class BlockingSends {

    /** A blocking write shorter than this is no wait (most return at once), as for the servlet layer's. */
    static final long MIN_NANOS = 1_000_000L;

    /** What a container's blocking sends are made of. */
    interface Side {
        /** The tracker whose entries ({@link Send#transport}) are the sends' connections. */
        Tracker tracker();

        /** The connection's bytes while its send blocks; their shrinking between ticks is drain progress. */
        long pending(Send s);

        /** Whether the send that just returned failed (timed out, the client went away). */
        boolean failed(Send s);
    }

    private final Monitor monitor;
    private final Side side;
    private final int max;
    /** Sends whose thread waits right now, by the key their begin and end are called with. */
    private final Map<Object, Send> running = new ConcurrentHashMap<>();
    /** Connections with a promoted send running now, and how many. */
    private final Map<Object, Integer> blocked = new ConcurrentHashMap<>();

    BlockingSends(Monitor monitor, Side side, int max) {
        this.monitor = monitor;
        this.side = side;
        this.max = max;
    }

    /**
     * A send named {@code key} of connection {@code transport} blocks the calling thread from now; {@code state} is
     * the side's (what it reads the bytes from). Returns a token for {@link #ends}, 0 when not watched.
     */
    long begins(Object key, Object transport, Object state) {
        if (running.size() >= max) {
            return 0;
        }
        long now = monitor.clock().nanoTime();
        long token = now == 0 ? 1 : now;
        running.put(key, new Send(token, transport, state, Thread.currentThread()));
        return token;
    }

    /** The send {@link #begins} returned {@code token} for returned. */
    void ends(Object key, long token) {
        Send s = running.get(key);
        if (s == null || s.startNanos() != token || !running.remove(key, s)) {
            return;
        }
        // under the send's lock: the timer promotes it and begins its connection's wait in one step, so a send that
        // ends meanwhile either was not promoted (histogram only) or ends a wait that has begun
        synchronized (s) {
            if (s.end()) {
                blocked.computeIfPresent(s.transport, (t, n) -> n == 1 ? null : n - 1);
                TrackedConnection c = side.tracker().get(s.transport);
                if (c != null) {
                    if (s.ownsWait) {
                        boolean failed = side.failed(s);
                        monitor.blockingWriteReturned(c, failed, failed ? Math.max(0, side.pending(s)) : 0);
                    }
                    return;
                }
            }
        }
        long took = monitor.clock().nanoTime() - s.startNanos();
        if (took >= MIN_NANOS) {
            monitor.waited(WebSocketIntegration.LAYER, took);
        }
    }

    /** The send running under {@code key}, or null. */
    Send running(Object key) {
        return running.get(key);
    }

    /**
     * Whether a send of {@code transport} has blocked its thread for a while now: its connection is stopped, whatever
     * else the side reads of it (Jetty's session queue is empty while its only frame is being written).
     */
    boolean blocks(Object transport) {
        return blocked.containsKey(transport);
    }

    /** Whether no send blocks now. */
    boolean isEmpty() {
        return running.isEmpty();
    }

    /**
     * The agent's timer: sends running for at least {@link #MIN_NANOS} become waits of their connection from their
     * start, named by the blocked thread's application frame; a promoted send whose bytes shrank since the last tick
     * made drain progress (no stall).
     */
    void tick() {
        if (running.isEmpty()) {
            return;
        }
        long now = monitor.clock().nanoTime();
        for (Send s : running.values()) {
            long left = Math.max(0, side.pending(s));
            if (s.promoted) {
                TrackedConnection c = side.tracker().get(s.transport);
                if (c != null && left < s.lastLeft) {
                    monitor.progress(c);
                }
                s.lastLeft = left;
                continue;
            }
            if (now - s.startNanos() < MIN_NANOS) {
                continue;
            }
            TrackedConnection c = side.tracker().track(s.transport, true);
            if (c == null) {
                continue; // no room in the registry: the send's end records it in the histogram
            }
            synchronized (s) {
                if (!s.promote()) {
                    continue;
                }
                s.promoted = true;
                s.lastLeft = left;
                blocked.merge(s.transport, 1, Integer::sum);
                // a connection already in a wait of its own (Jetty's queue backed up) keeps it: not counted twice
                s.ownsWait = !c.isWaiting();
                if (s.ownsWait) {
                    monitor.stopSince(c, left, s.startNanos());
                }
            }
            if (monitor.mayWalkStack()) {
                monitor.waitSite(c, WebSocketIntegration.SEND_PENDING, s.thread.getStackTrace());
            }
        }
    }

    /** Stops watching: sends in progress are forgotten (the monitor ends their episodes). */
    void reset() {
        running.clear();
        blocked.clear();
    }

    /** A blocking send in progress: its connection, the side's state, the thread that waits in it. */
    static final class Send extends BlockedWrite {
        final Object transport;
        final Object state;
        final Thread thread;
        /** Timer thread only. */
        boolean promoted;
        long lastLeft;
        /** Whether its promotion began its connection's wait (then its end ends it); under the send's lock. */
        boolean ownsWait;

        Send(long startNanos, Object transport, Object state, Thread thread) {
            super(startNanos, 0);
            this.transport = transport;
            this.state = state;
            this.thread = thread;
        }
    }
}

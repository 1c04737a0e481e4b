package io.highwater.socket;

import io.highwater.socket.bootstrap.SocketHooks;
import io.highwater.socket.bootstrap.SocketWrites;
import io.highwater.core.Clock;
import io.highwater.core.Frameworks;
import io.highwater.core.GatedMap;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Monitor;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;

import java.lang.ref.WeakReference;
import java.net.SocketAddress;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Translates the socket advice into the neutral model (layer {@code socket}, signal {@code socket_full}).
 *
 * <p><b>Blocking writes</b> ({@code Socket} streams, blocking {@code SocketChannel}s): a write is a wait once it parks
 * for POLLOUT, or once the sampler ({@link #sample()}, every few milliseconds) finds it running since before its
 * previous tick; the wait then counts from that tick, so waits are seen and measured with the sampler's resolution.
 * It ends when the write returns. The bytes of the blocked call are the connection's pending bytes.
 *
 * <p><b>Non-blocking channels</b>: a short write starts a wait; a selector reporting the channel writable is the go
 * signal. A write in between (a retry without waiting: a spin) is an ignored signal with its call site; one that
 * hands over everything also ends the wait.
 *
 * <p>Channels that Netty, the servlet containers, other libraries, agents or the JDK's HTTP client (the agent's own
 * export among them) write through are counted at their own layer or not at all: the first short write of a channel
 * looks at its stack once, against the one list of {@link Frameworks} ({@code highwater.callsite.frameworks} extends
 * it here too).
 */
public final class SocketAdapter implements SocketHooks, TransportProbe {

    /** Remembered owner decisions before the cache starts over. */
    private static final int MAX_OWNER_DECISIONS = 100_000;
    private static final int TICK_RING = 64;
    /** Slots of {@link #ownedSeen}, a power of two. */
    private static final int OWNED_SEEN = 256;

    private final Monitor monitor;
    private final ConnectionRegistry registry;
    private final Clock clock;
    private final SocketAccess access = new SocketAccess();
    private final StackWalker walker = StackWalker.getInstance();
    /** The one list of frameworks (with the user's additions): a channel written from their frames is theirs. */
    private final Frameworks frameworks;
    private final Tracker tracker;

    /** Blocking writes reported as waiting, by socket; guarded by itself. */
    private final Map<Object, Blocked> blocked = new IdentityHashMap<>();
    /** Non-blocking channels in a wait, by channel; guarded by itself. */
    private final GatedMap<NioWait> nioWaits;
    /** Channels whose writes belong to a framework (true) or to the application (false); guarded by itself. */
    private final Map<Object, Boolean> owners = new WeakHashMap<>();
    /**
     * Channels known to belong to a framework, by identity hash: a framework's channel comes here at every short
     * write (Netty's at every flush that filled the socket), and is let go after one array read instead of two locks.
     * A slot holds the last channel that hashed to it; a miss goes to {@link #owners}.
     */
    private final WeakReference<?>[] ownedSeen = new WeakReference<?>[OWNED_SEEN];
    /** Sockets the guard refused, with the message their writes fail with; guarded by itself, weak (bounded by the
     * registry's cap on tracked connections, from which the guard chooses them). */
    private final Map<Object, String> refused = new WeakHashMap<>();
    /** When each sampler tick began, by tick modulo the ring's size; written by the sampler only. */
    private final long[] tickNanos = new long[TICK_RING];

    /** A blocking write reported as waiting. */
    private static final class Blocked {
        final SocketWrites.Slot slot;
        final long seq;
        final long bytes;
        final long sinceNanos;
        final TrackedConnection connection;

        Blocked(SocketWrites.Slot slot, long seq, long bytes, long sinceNanos, TrackedConnection connection) {
            this.slot = slot;
            this.seq = seq;
            this.bytes = bytes;
            this.sinceNanos = sinceNanos;
            this.connection = connection;
        }
    }

    /** A non-blocking channel waiting for the selector. */
    private static final class NioWait {
        final TrackedConnection connection;
        final long sinceNanos;
        volatile long pending;

        NioWait(TrackedConnection connection, long sinceNanos, long pending) {
            this.connection = connection;
            this.sinceNanos = sinceNanos;
            this.pending = pending;
        }
    }

    public SocketAdapter(Monitor monitor, int maxWaits) {
        this.monitor = monitor;
        this.registry = monitor.registry();
        this.clock = monitor.clock();
        this.frameworks = monitor.inspector().frameworks();
        this.tracker = monitor.tracker(SocketIntegration.LAYER, this);
        this.nioWaits = new GatedMap<>(SocketWrites.nioWaiting, false, maxWaits);
        long now = clock.nanoTime();
        for (int i = 0; i < TICK_RING; i++) {
            tickNanos[i] = now;
        }
    }

    // ---------------------------------------------------------------- blocking writes

    /**
     * The sampler: advances the tick, reports writes that have run since before the previous tick as waiting, and
     * ends the waits whose write has gone while nobody reported it (a write ending just as it was reported).
     *
     * @return whether any write was in progress (the sampler may look less often while none is)
     */
    public boolean sample() {
        boolean busy = false;
        long now = clock.nanoTime();
        long tick = SocketWrites.tick + 1;
        tickNanos[(int) (tick % TICK_RING)] = now;
        SocketWrites.tick = tick;
        for (int i = 0; i < SocketWrites.SLOTS; i++) {
            SocketWrites.Slot s = SocketWrites.slot(i);
            Object socket = s.owner();
            if (socket == null) {
                continue;
            }
            busy = true;
            long start = s.startTick();
            long seq = s.seq();
            if (tick - start >= 2 && tick - start < TICK_RING && s.report()) {
                // it began after tick `start` and is still running: it has waited at least since tick start + 1
                begin(socket, s, seq, s.bytes(), tickNanos[(int) ((start + 1) % TICK_RING)]);
            }
        }
        List<Object> gone = null;
        synchronized (blocked) {
            for (Map.Entry<Object, Blocked> e : blocked.entrySet()) {
                Blocked b = e.getValue();
                if (b.slot.owner() != e.getKey() || b.slot.seq() != b.seq) {
                    if (gone == null) {
                        gone = new ArrayList<>();
                    }
                    gone.add(e.getKey());
                }
            }
        }
        if (gone != null) {
            for (Object socket : gone) {
                writeEnded(socket, false, 0);
            }
        }
        return busy;
    }

    @Override
    public void parked(Object socket, SocketWrites.Slot slot) {
        begin(socket, slot, slot.seq(), slot.bytes(), clock.nanoTime());
    }

    private void begin(Object socket, SocketWrites.Slot slot, long seq, long bytes, long sinceNanos) {
        TrackedConnection c = track(socket, bytes);
        synchronized (blocked) {
            blocked.put(socket, new Blocked(slot, seq, bytes, sinceNanos, c));
        }
        if (c != null) {
            monitor.stopSince(c, bytes, sinceNanos);
        }
    }

    @Override
    public void writeEnded(Object socket, boolean failed, long bytes) {
        Blocked b;
        synchronized (blocked) {
            b = blocked.remove(socket);
        }
        if (b == null) {
            TrackedConnection c = failed ? registry.get(socket) : null;
            if (c != null) {
                // a connection with backpressure history cut off: its episode ends with this write undelivered
                monitor.closed(c, bytes);
            }
            return;
        }
        if (b.connection != null) {
            // cut off mid-write (the peer went away), the episode ends with the call's bytes undelivered
            monitor.blockingWriteReturned(b.connection, failed, b.bytes);
        } else {
            drained(null, b.sinceNanos);
        }
    }

    /** A wait is over: the connection's go signal, or only the histogram for one the registry had no room for. */
    private void drained(TrackedConnection connection, long sinceNanos) {
        if (connection != null) {
            monitor.go(connection);
        } else {
            monitor.waited(SocketIntegration.LAYER, clock.nanoTime() - sinceNanos);
        }
    }

    // ---------------------------------------------------------------- non-blocking channels

    @Override
    public void nonBlockingWrite(Object channel, long written, long left) {
        WeakReference<?> seen = ownedSeen[System.identityHashCode(channel) & (OWNED_SEEN - 1)];
        if (seen != null && seen.get() == channel) {
            return;
        }
        NioWait w = nioWaits.get(channel);
        if (w == null) {
            if (left > 0 && !ownedByFramework(channel)) {
                waitBegins(channel, left);
            }
            return;
        }
        // the channel said stop and no selector has said go since: this write did not wait
        monitor.ignoredWrite(w.connection, SocketIntegration.SOCKET_FULL, written + left);
        if (left == 0) {
            waitEnds(channel);
        } else {
            w.pending = left;
            if (written > 0 && w.connection != null) {
                monitor.progress(w.connection);
            }
        }
    }

    @Override
    public void keyReady(Object key) {
        SelectionKey k = (SelectionKey) key;
        try {
            if ((k.readyOps() & SelectionKey.OP_WRITE) == 0) {
                return;
            }
        } catch (RuntimeException cancelled) {
            return;
        }
        waitEnds(k.channel());
    }

    private void waitBegins(Object channel, long pending) {
        TrackedConnection c = track(channel, pending);
        if (!nioWaits.add(channel, new NioWait(c, clock.nanoTime(), pending))) {
            return;
        }
        if (c != null) {
            monitor.stop(c, pending);
        }
    }

    private void waitEnds(Object channel) {
        NioWait w = nioWaits.remove(channel);
        if (w != null) {
            drained(w.connection, w.sinceNanos);
        }
    }

    private boolean ownedByFramework(Object channel) {
        synchronized (owners) {
            Boolean known = owners.get(channel);
            if (known != null) {
                if (known) {
                    rememberOwned(channel);
                }
                return known;
            }
        }
        boolean owned = walker.walk(frames -> frames.anyMatch(f -> frameworks.ownsSockets(f.getClassName())));
        synchronized (owners) {
            if (owners.size() >= MAX_OWNER_DECISIONS) {
                owners.clear();
            }
            owners.put(channel, owned);
        }
        if (owned) {
            rememberOwned(channel);
        }
        return owned;
    }

    private void rememberOwned(Object channel) {
        ownedSeen[System.identityHashCode(channel) & (OWNED_SEEN - 1)] = new WeakReference<>(channel);
    }

    // ---------------------------------------------------------------- shared

    /** The agent's main timer: waits of channels that closed leave the wait table. */
    public void tick() {
        for (Object channel : nioWaits.keys()) {
            if (!access.isOpen(channel)) {
                waitEnds(channel);
            }
        }
    }

    /** Stops watching: the advice goes quiet, waits are forgotten (the monitor ends their episodes). */
    public void reset() {
        SocketWrites.active = false;
        nioWaits.clear();
        synchronized (blocked) {
            blocked.clear();
        }
    }

    @Override
    public long pendingBytes(Object transport) {
        synchronized (blocked) {
            Blocked b = blocked.get(transport);
            if (b != null) {
                return b.bytes;
            }
        }
        NioWait w = nioWaits.get(transport);
        return w == null ? 0 : w.pending;
    }

    @Override
    public boolean isOpen(Object transport) {
        return access.isOpen(transport);
    }

    @Override
    public boolean close(Object transport) {
        return access.close(transport);
    }

    /**
     * A socket's writes cannot be refused before they reach the kernel (the advice has no slow path before a write):
     * the guard's {@code fail} closes the socket, and the write blocked on it, and every later one, throws the guard's
     * {@code IOException} with the JDK's own as its cause ({@link #refusal}).
     */
    @Override
    public boolean refuse(Object transport, String message) {
        synchronized (refused) {
            refused.put(transport, message);
        }
        SocketWrites.refusing = 1;
        return access.close(transport);
    }

    @Override
    public Throwable refusal(Object socket, Throwable thrown) {
        String message;
        synchronized (refused) {
            message = refused.get(socket);
        }
        return message == null ? thrown : new java.io.IOException(message, thrown);
    }

    @Override
    public SocketAddress peer(Object transport) {
        return access.remoteAddress(transport);
    }

    @Override
    public SocketAddress local(Object transport) {
        return access.localAddress(transport);
    }

    private TrackedConnection track(Object socket, long pending) {
        return tracker.track(socket, true, pending);
    }
}

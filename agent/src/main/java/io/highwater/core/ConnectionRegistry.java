package io.highwater.core;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connections currently under pressure, keyed by the identity of their transport object and holding
 * it weakly; a connection whose transport was collected is swept by the monitor's timer. Capped: a connection that does not fit is counted as a dropped {@code connection} once, at
 * the moment it would have entered. Thread-safe; touched only on slow paths and at collection time.
 */
public final class ConnectionRegistry {

    private final ConcurrentHashMap<Object, TrackedConnection> map = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();
    /** Whether any connection was ever registered: a JVM that never saw backpressure has nothing to flush. */
    private volatile boolean used;
    private final int max;
    private final Dropped dropped;
    private final Clock clock;

    public ConnectionRegistry(int max, Dropped dropped) {
        this(max, dropped, Clock.SYSTEM);
    }

    /** @param clock the time of each connection's peak (the monitor's clock) */
    public ConnectionRegistry(int max, Dropped dropped, Clock clock) {
        this.max = max;
        this.dropped = dropped;
        this.clock = clock;
    }

    public TrackedConnection get(Object transport) {
        return map.get(new TrackedConnection.Lookup(transport));
    }

    /**
     * The tracked connection for {@code transport}, registering it if there is room.
     *
     * @param countDrop whether a refusal for lack of room counts as a drop (true at the stop signal, false on
     *                  later writes of the same connection, so each connection counts once)
     * @return null when the registry is full
     */
    public TrackedConnection register(Object transport, Layer layer, TransportProbe probe, SocketAddress peer,
                                      SocketAddress local, boolean countDrop, long nowNanos, long pendingNow) {
        TrackedConnection existing = get(transport);
        if (existing != null) {
            return existing;
        }
        if (size.incrementAndGet() > max) {
            size.decrementAndGet();
            if (countDrop) {
                dropped.add(DropKind.CONNECTION);
            }
            return null;
        }
        TrackedConnection fresh = new TrackedConnection(transport, layer, probe, peer, local, clock, nowNanos, pendingNow);
        used = true;
        TrackedConnection raced = map.putIfAbsent(fresh, fresh);
        if (raced != null) {
            size.decrementAndGet();
            return raced;
        }
        return fresh;
    }

    /** Removes the connection of {@code transport}; returns it, or null when it was not tracked. */
    public TrackedConnection remove(Object transport) {
        TrackedConnection c = map.remove(new TrackedConnection.Lookup(transport));
        if (c != null) {
            size.decrementAndGet();
        }
        return c;
    }

    /** Removes {@code c} itself (calm eviction, or its transport closed or collected). */
    public boolean evict(TrackedConnection c) {
        if (map.remove(c, c)) {
            size.decrementAndGet();
            return true;
        }
        return false;
    }

    public boolean everUsed() {
        return used;
    }

    /** How many connections it holds at most. */
    public int max() {
        return max;
    }

    public int size() {
        return size.get();
    }

    public boolean isEmpty() {
        return map.isEmpty();
    }

    /**
     * Every tracked connection, including ones whose transport closed or was collected: the monitor's timer
     * ends their waits and evicts them, so no wait is lost.
     */
    public List<TrackedConnection> all() {
        return new ArrayList<>(map.values());
    }

    /** Connections whose transport is still open. */
    public List<TrackedConnection> live() {
        List<TrackedConnection> out = new ArrayList<>(map.size());
        for (TrackedConnection c : map.values()) {
            if (c.isLive()) {
                out.add(c);
            }
        }
        return out;
    }
}

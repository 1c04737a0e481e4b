package io.highwater.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Pending bytes of every tracked connection, read once per collection from the transports' own accounting:
 * the total per layer and the top N connections.
 */
public final class Snapshot {

    /** One connection of the top N. */
    public static final class Entry {
        public final TrackedConnection connection;
        public final long pendingBytes;

        Entry(TrackedConnection connection, long pendingBytes) {
            this.connection = connection;
            this.pendingBytes = pendingBytes;
        }
    }

    private static final Comparator<Entry> BY_PENDING = Comparator.comparingLong(e -> e.pendingBytes);

    private final long[] pendingByLayer = new long[Layer.values().length];
    private final int[] connectionsByLayer = new int[Layer.values().length];
    private final int[] blockedByLayer = new int[Layer.values().length];
    private final long[] oldestWaitNanosByLayer = new long[Layer.values().length];
    private final long[] peakByLayer = new long[Layer.values().length];
    private final List<Entry> top;

    private Snapshot(List<Entry> top) {
        this.top = top;
    }

    public static Snapshot take(ConnectionRegistry registry, int topN, long nowNanos) {
        PriorityQueue<Entry> heap = new PriorityQueue<>(Math.max(1, topN), BY_PENDING);
        List<TrackedConnection> live = registry.live();
        long[] pending = new long[Layer.values().length];
        int[] count = new int[Layer.values().length];
        int[] blocked = new int[Layer.values().length];
        long[] oldest = new long[Layer.values().length];
        long[] peak = new long[Layer.values().length];
        for (TrackedConnection c : live) {
            long p = c.pendingBytes();
            if (p < 0) {
                continue;
            }
            c.observePending(p);
            int layer = c.layer().ordinal();
            peak[layer] = Math.max(peak[layer], c.peakPending());
            pending[layer] += p;
            count[layer]++;
            long waitStart = c.waitStartNanos();
            if (waitStart != 0) {
                blocked[layer]++;
                oldest[layer] = Math.max(oldest[layer], nowNanos - waitStart);
            }
            if (topN > 0 && p > 0) {
                if (heap.size() < topN) {
                    heap.add(new Entry(c, p));
                } else if (heap.peek().pendingBytes < p) {
                    heap.poll();
                    heap.add(new Entry(c, p));
                }
            }
        }
        List<Entry> top = new ArrayList<>(heap);
        top.sort(Collections.reverseOrder(BY_PENDING));
        Snapshot s = new Snapshot(Collections.unmodifiableList(top));
        System.arraycopy(pending, 0, s.pendingByLayer, 0, pending.length);
        System.arraycopy(count, 0, s.connectionsByLayer, 0, count.length);
        System.arraycopy(blocked, 0, s.blockedByLayer, 0, blocked.length);
        System.arraycopy(oldest, 0, s.oldestWaitNanosByLayer, 0, oldest.length);
        System.arraycopy(peak, 0, s.peakByLayer, 0, peak.length);
        return s;
    }

    public long pendingBytes(Layer layer) {
        return pendingByLayer[layer.ordinal()];
    }

    public int trackedConnections(Layer layer) {
        return connectionsByLayer[layer.ordinal()];
    }

    /** The highest pending bytes any tracked connection reached in its current episode (seen at every write). */
    public long peakConnectionPending(Layer layer) {
        return peakByLayer[layer.ordinal()];
    }

    /** Connections in a stop state right now. */
    public int blocked(Layer layer) {
        return blockedByLayer[layer.ordinal()];
    }

    /** Age of the longest still-running wait, 0 when none. */
    public long oldestWaitNanos(Layer layer) {
        return oldestWaitNanosByLayer[layer.ordinal()];
    }

    /** The top N connections by pending bytes, largest first; connections with nothing pending are left out. */
    public List<Entry> top() {
        return top;
    }
}

package io.highwater.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Pending bytes of every tracked connection, read once per collection from the transports' own accounting: the
 * total per layer and the top N connections.
 *
 * <p>A connection can be held in several layers at once (a Reactor queue above a Netty channel, HTTP/2 streams
 * above their connection's outbound buffer): its tracked entries are grouped by {@link
 * TrackedConnection#connectionKey()}, and each layer that registered a {@link ConnectionShare} and does not track the
 * group itself is asked what it holds for it. A layer's total is then the sum of its shares over all connections,
 * and the top N are chosen by what the connection holds in all layers together; no byte is in two layers.
 */
public final class Snapshot {

    /** One layer's part of a connection. */
    public static final class Share {
        public final Layer layer;
        public final long pendingBytes;

        Share(Layer layer, long pendingBytes) {
            this.layer = layer;
            this.pendingBytes = pendingBytes;
        }
    }

    /** One connection of the top N: what it holds in all layers, and in each. */
    public static final class Entry {
        /** The connection's first tracked entry: its addresses name it. */
        public final TrackedConnection connection;
        /** All layers together. */
        public final long pendingBytes;
        /** Per layer, largest first; never empty. */
        public final List<Share> shares;
        /**
         * The connection-level flow-control window left (HTTP/2: what the peer lets all streams together still send),
         * the smallest any of its tracked entries reports; -1 when none has such a window.
         */
        public final long connectionWindow;

        Entry(TrackedConnection connection, long pendingBytes, List<Share> shares, long connectionWindow) {
            this.connection = connection;
            this.pendingBytes = pendingBytes;
            this.shares = shares;
            this.connectionWindow = connectionWindow;
        }
    }

    /** A connection while the snapshot is taken. */
    private static final class Group {
        final TrackedConnection first;
        /** Further tracked entries of the same connection (another layer's), when there are any. */
        List<TrackedConnection> more;
        final long[] byLayer = new long[Layer.MAX];
        /** Layers that track this connection themselves, as bits of their index. */
        int tracked;
        long total;

        Group(TrackedConnection first) {
            this.first = first;
        }

        void add(Layer layer, long bytes) {
            byLayer[layer.index()] += bytes;
            total += bytes;
        }

        Entry entry() {
            List<Share> shares = new ArrayList<>(2);
            for (int i = 0; i < byLayer.length; i++) {
                if (byLayer[i] > 0) {
                    shares.add(new Share(Layer.byIndex(i), byLayer[i]));
                }
            }
            shares.sort(Collections.reverseOrder(Comparator.comparingLong(s -> s.pendingBytes)));
            // read for the chosen connections only: one read per tracked entry of a top-N connection
            long window = first.connectionWindow();
            if (more != null) {
                for (TrackedConnection c : more) {
                    long w = c.connectionWindow();
                    if (w >= 0 && (window < 0 || w < window)) {
                        window = w;
                    }
                }
            }
            return new Entry(first, total, Collections.unmodifiableList(shares), window);
        }
    }

    private static final Comparator<Group> BY_TOTAL = Comparator.comparingLong(g -> g.total);

    private final long[] pendingByLayer = new long[Layer.MAX];
    private final long[] itemsByLayer = new long[Layer.MAX];
    private final int[] connectionsByLayer = new int[Layer.MAX];
    private final int[] blockedByLayer = new int[Layer.MAX];
    private final long[] oldestWaitNanosByLayer = new long[Layer.MAX];
    private final long[] peakByLayer = new long[Layer.MAX];
    private List<Entry> top = Collections.emptyList();
    private List<StreamEntry> topStreams = Collections.emptyList();

    /** One stream of the top N streams: its own pending bytes (a stream is tracked on its own, under its layer). */
    public static final class StreamEntry {
        public final TrackedConnection stream;
        public final long pendingBytes;

        StreamEntry(TrackedConnection stream, long pendingBytes) {
            this.stream = stream;
            this.pendingBytes = pendingBytes;
        }
    }

    private static final Comparator<StreamEntry> STREAM_BY_PENDING = Comparator.comparingLong(e -> e.pendingBytes);

    private Snapshot() {
    }

    public static Snapshot take(Monitor monitor, int topN, long nowNanos) {
        return take(monitor.registry(), monitor.shares(), topN, nowNanos);
    }

    static Snapshot take(ConnectionRegistry registry, List<ConnectionShare> shareProviders, int topN, long nowNanos) {
        Snapshot s = new Snapshot();
        List<TrackedConnection> live = registry.live();
        Map<Object, Group> groups = new HashMap<>(live.size() * 2);
        PriorityQueue<StreamEntry> streams = new PriorityQueue<>(Math.max(1, topN), STREAM_BY_PENDING);
        for (TrackedConnection c : live) {
            long p = c.pendingBytes();
            Object key = c.connectionKey();
            if (p < 0 || key == null) {
                continue;
            }
            if (c.stream() != null && p > 0 && topN > 0) {
                if (streams.size() < topN) {
                    streams.add(new StreamEntry(c, p));
                } else if (streams.peek().pendingBytes < p) {
                    streams.poll();
                    streams.add(new StreamEntry(c, p));
                }
            }
            c.observePending(p);
            int layer = c.layer().index();
            s.peakByLayer[layer] = Math.max(s.peakByLayer[layer], c.peakPending());
            s.pendingByLayer[layer] += p;
            s.itemsByLayer[layer] += c.pendingItems();
            s.connectionsByLayer[layer]++;
            long waitStart = c.waitStartNanos();
            if (waitStart != 0) {
                s.blockedByLayer[layer]++;
                s.oldestWaitNanosByLayer[layer] = Math.max(s.oldestWaitNanosByLayer[layer], nowNanos - waitStart);
            }
            Group g = groups.get(key);
            if (g == null) {
                g = new Group(c);
                groups.put(key, g);
            } else {
                if (g.more == null) {
                    g.more = new ArrayList<>(2);
                }
                g.more.add(c);
            }
            g.tracked |= 1 << layer;
            g.add(c.layer(), p);
        }
        if (!shareProviders.isEmpty()) {
            for (Map.Entry<Object, Group> e : groups.entrySet()) {
                if (e.getKey() instanceof FourTuple || e.getKey() instanceof TrackedConnection) {
                    continue;
                }
                Group g = e.getValue();
                for (ConnectionShare share : shareProviders) {
                    int layer = share.layer().index();
                    if ((g.tracked & (1 << layer)) != 0) {
                        continue;
                    }
                    long b = readShare(share, e.getKey());
                    if (b > 0) {
                        g.add(share.layer(), b);
                        s.pendingByLayer[layer] += b;
                    }
                }
            }
        }
        // each tracked entry keeps its connection's shares at the highest total, for its episode's span
        for (Group g : groups.values()) {
            if (g.total > 0) {
                g.first.observeShares(g.total, g.byLayer);
                if (g.more != null) {
                    for (TrackedConnection c : g.more) {
                        c.observeShares(g.total, g.byLayer);
                    }
                }
            }
        }
        if (topN > 0) {
            PriorityQueue<Group> heap = new PriorityQueue<>(topN, BY_TOTAL);
            for (Group g : groups.values()) {
                if (g.total <= 0) {
                    continue;
                }
                if (heap.size() < topN) {
                    heap.add(g);
                } else if (heap.peek().total < g.total) {
                    heap.poll();
                    heap.add(g);
                }
            }
            List<Group> chosen = new ArrayList<>(heap);
            chosen.sort(Collections.reverseOrder(BY_TOTAL));
            List<Entry> entries = new ArrayList<>(chosen.size());
            for (Group g : chosen) {
                entries.add(g.entry());
            }
            s.top = Collections.unmodifiableList(entries);
            List<StreamEntry> chosenStreams = new ArrayList<>(streams);
            chosenStreams.sort(Collections.reverseOrder(STREAM_BY_PENDING));
            s.topStreams = Collections.unmodifiableList(chosenStreams);
        }
        return s;
    }

    private static long readShare(ConnectionShare share, Object connection) {
        try {
            return share.bytesFor(connection);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** What the layer holds: its tracked connections', and its shares of connections other layers track. */
    public long pendingBytes(Layer layer) {
        return pendingByLayer[layer.index()];
    }

    /** Elements the layer holds that are not bytes ({@code backpressure.pending.items}). */
    public long pendingItems(Layer layer) {
        return itemsByLayer[layer.index()];
    }

    public int trackedConnections(Layer layer) {
        return connectionsByLayer[layer.index()];
    }

    /** The highest pending bytes any tracked connection reached in its current episode (seen at every write). */
    public long peakConnectionPending(Layer layer) {
        return peakByLayer[layer.index()];
    }

    /** Connections in a stop state right now. */
    public int blocked(Layer layer) {
        return blockedByLayer[layer.index()];
    }

    /** Age of the longest still-running wait, 0 when none. */
    public long oldestWaitNanos(Layer layer) {
        return oldestWaitNanosByLayer[layer.index()];
    }

    /**
     * The top N connections by what they hold in all layers together, largest first; connections with nothing
     * pending are left out.
     */
    public List<Entry> top() {
        return top;
    }

    /**
     * The top N streams (entries named as a stream of their connection: HTTP/2 streams, gRPC calls) by their own
     * pending bytes, largest first.
     */
    public List<StreamEntry> topStreams() {
        return topStreams;
    }
}

package io.highwater.core;

import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * The agent's state for one connection that has hit a stop signal. It refers to its transport object
 * (for Netty, the {@code ChannelOutboundBuffer}) only weakly, so the registry never keeps a connection
 * alive. It doubles as its own registry key: identity of the referent.
 *
 * <p>Footprint (measured by bench/scripts/footprint.sh): this object 168 bytes with compressed oops, the span-event
 * array 48 once the first stop is seen, and the registry's map node 32; the addresses are the transport's own
 * objects, shared, not copies. The per-connection budget is 256 bytes: a new field here needs a look at that.
 */
public final class TrackedConnection extends WeakReference<Object> {

    private final int hash;
    private final Layer layer;
    private final TransportProbe probe;
    private final SocketAddress peer;
    private final SocketAddress local;

    /** {@link #lastProgressNanos} of a wait that drained since the timer's last tick (no clock read per drain). */
    static final long PROGRESSED = Long.MIN_VALUE;

    private static final AtomicLongFieldUpdater<TrackedConnection> PEAK =
            AtomicLongFieldUpdater.newUpdater(TrackedConnection.class, "peakPending");

    /** The site most recently attributed to an ignored write on this connection. */
    volatile CallSite lastSite;
    /** The site captured on the application thread that last submitted a write from outside the event loop. */
    volatile CallSite submitSite;

    // The episode: from the first stop signal until the connection has been calm (not waiting) for one stall
    // threshold, or closes. Within it, waits run from a stop signal to the next go signal. Transitions happen
    // under this object's lock (stop and go may come from different threads); the timer reads the volatiles.
    final long episodeStartNanos;
    final long pendingAtStart;
    volatile long peakPending;
    /** Start of the current wait, 0 when not waiting. */
    volatile long waitStartNanos;
    /** When the current wait last drained, or {@link #PROGRESSED} when it drained since the timer's last tick. */
    volatile long lastProgressNanos;
    /** End of the last wait: the connection has been calm since then. */
    volatile long calmSinceNanos;
    volatile long episodeWaitNanos;
    volatile long episodeIgnoredWrites;
    volatile long episodeIgnoredBytes;
    volatile int waits;
    volatile boolean stalled;
    /** Bytes queued when the transport began to fail its queued messages (a close), 0 if it did not. */
    private volatile long pendingAtFailure;
    /** The kernel's send queue when last looked at for stall detection, -1 before the first look. */
    long lastKernelQueued = -1;
    /** Whether the current wait has been counted as a stall (at most once per wait). */
    boolean stallCounted;
    /** The application's trace context at the episode's first stop or ignored write, if it had one. */
    volatile TraceLink traceLink;
    /** Whether {@link #traceLink} was looked for already (the look-up runs once per episode). */
    volatile boolean traceLooked;
    /** Whether the episode has ended (closed, evicted, or the agent stopped): it ends exactly once. */
    boolean ended;

    /** Stop, go and stall moments of the episode, for span events: at most {@link #MAX_EVENTS}, the rest counted. */
    public static final int MAX_EVENTS = 8;
    public static final int EVENT_STOP = 0;
    public static final int EVENT_GO = 1;
    public static final int EVENT_STALL = 2;
    /**
     * Each entry: (microseconds since the episode started) << 2 | kind, in an int to stay within the per-connection
     * budget (an int holds 8.9 minutes of microseconds; later events keep that last time). Allocated at the first event.
     */
    private int[] events;
    private int eventCount;
    private int eventsDropped;

    TrackedConnection(Object transport, Layer layer, TransportProbe probe,
                      SocketAddress peer, SocketAddress local, long nowNanos, long pendingNow) {
        super(transport);
        this.episodeStartNanos = nowNanos;
        this.calmSinceNanos = nowNanos;
        this.pendingAtStart = pendingNow;
        this.peakPending = pendingNow;
        this.hash = System.identityHashCode(transport);
        this.layer = layer;
        this.probe = probe;
        this.peer = peer;
        this.local = local;
    }

    public Layer layer() {
        return layer;
    }

    /** Pending bytes now, or -1 when the transport is gone. */
    public long pendingBytes() {
        Object t = get();
        return t == null ? -1 : probe.pendingBytes(t);
    }

    boolean isLive() {
        Object t = get();
        return t != null && probe.isOpen(t);
    }

    public InetSocketAddress peerSocketAddress() {
        return peer instanceof InetSocketAddress ? (InetSocketAddress) peer : null;
    }

    public InetSocketAddress localAddress() {
        return local instanceof InetSocketAddress ? (InetSocketAddress) local : null;
    }

    public String peerAddress() {
        return peer instanceof InetSocketAddress ? hostString((InetSocketAddress) peer) : null;
    }

    public int peerPort() {
        return peer instanceof InetSocketAddress ? ((InetSocketAddress) peer).getPort() : -1;
    }

    public int serverPort() {
        return local instanceof InetSocketAddress ? ((InetSocketAddress) local).getPort() : -1;
    }

    public CallSite lastSite() {
        return lastSite;
    }

    /** Raises the episode's peak to {@code pending} if that is higher; safe from any thread. */
    public void observePending(long pending) {
        for (long p = peakPending; pending > p; p = peakPending) {
            if (PEAK.compareAndSet(this, p, pending)) {
                return;
            }
        }
    }

    /** Called under this object's lock. */
    void addEvent(int kind, long nowNanos) {
        if (eventCount == MAX_EVENTS) {
            // counted as dropped only if this episode becomes a span (EpisodeSpans)
            eventsDropped++;
            return;
        }
        if (events == null) {
            events = new int[MAX_EVENTS];
        }
        long micros = Math.min(Math.max(0, nowNanos - episodeStartNanos) / 1000, Integer.MAX_VALUE >> 2);
        events[eventCount++] = (int) (micros << 2) | kind;
    }

    /** Number of recorded events. */
    public synchronized int eventCount() {
        return eventCount;
    }

    public synchronized int eventKind(int i) {
        return events[i] & 3;
    }

    public synchronized long eventNanos(int i) {
        return episodeStartNanos + (events[i] >>> 2) * 1000L;
    }

    public synchronized int eventsDropped() {
        return eventsDropped;
    }

    public void pendingAtFailure(long pending) {
        pendingAtFailure = pending;
    }

    public long pendingAtFailure() {
        return pendingAtFailure;
    }

    public TraceLink traceLink() {
        return traceLink;
    }

    public boolean isWaiting() {
        return waitStartNanos != 0;
    }

    public long waitStartNanos() {
        return waitStartNanos;
    }

    public long episodeStartNanos() {
        return episodeStartNanos;
    }

    public long pendingAtStart() {
        return pendingAtStart;
    }

    public long peakPending() {
        return peakPending;
    }

    public long episodeIgnoredWrites() {
        return episodeIgnoredWrites;
    }

    public long episodeIgnoredBytes() {
        return episodeIgnoredBytes;
    }

    public long episodeWaitNanos() {
        return episodeWaitNanos;
    }

    public int waits() {
        return waits;
    }

    public boolean stalled() {
        return stalled;
    }

    private static String hostString(InetSocketAddress a) {
        return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        Object mine = get();
        if (mine == null) {
            return false;
        }
        if (o instanceof TrackedConnection) {
            return ((TrackedConnection) o).get() == mine;
        }
        return o instanceof Lookup && ((Lookup) o).transport == mine;
    }

    /** A probe for map look-ups by transport, without creating a weak reference. */
    static final class Lookup {
        final Object transport;

        Lookup(Object transport) {
            this.transport = transport;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(transport);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TrackedConnection && ((TrackedConnection) o).get() == transport;
        }
    }
}

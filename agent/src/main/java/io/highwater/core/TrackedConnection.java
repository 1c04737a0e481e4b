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
 * <p>Footprint: see bench/scripts/footprint.sh, which measures this object and the registry's map node; the addresses are the transport's own objects, shared, not copies. The per-connection budget
 * is 256 bytes: a new field here needs a look at that.
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
    private volatile CallSite lastSite;
    /** The application's call whose blocking write was a wait of this connection (no ignored write). */
    private volatile CallSite waitSite;

    // The episode: from the first stop signal until the connection has been calm (not waiting) for one stall
    // threshold, or closes. Within it, waits run from a stop signal to the next go signal. Transitions happen
    // under this object's lock (stop and go may come from different threads); the timer reads the volatiles.
    private final long episodeStartNanos;
    private final long pendingAtStart;
    private volatile long peakPending;
    /** When the episode's pending bytes were last raised to {@link #peakPending}. */
    private volatile long peakAtNanos;
    /** Start of the current wait, 0 when not waiting. */
    private volatile long waitStartNanos;
    /** When the current wait last drained, or {@link #PROGRESSED} when it drained since the timer's last tick. */
    private volatile long lastProgressNanos;
    /** End of the last wait: the connection has been calm since then. */
    private volatile long calmSinceNanos;
    private volatile long episodeWaitNanos;
    private volatile long episodeIgnoredWrites;
    private volatile long episodeIgnoredBytes;
    private volatile int waits;
    private volatile boolean stalled;
    /** The agent found this connection already under pressure when it attached: its first wait began earlier. */
    private volatile boolean foundAtAttach;
    /** Bytes queued when the transport began to fail its queued messages (a close), 0 if it did not. */
    private volatile long pendingAtFailure;
    /* The timer found the transport closed once already (the timer's thread only). */
    private boolean seenClosed;
    /** The kernel's send queue when last looked at for stall detection, -1 before the first look. */
    private long lastKernelQueued = -1;
    /** Whether the current wait has been counted as a stall (at most once per wait). */
    private boolean stallCounted;
    /** The application's trace context at the episode's first stop or ignored write, if it had one. */
    private volatile TraceLink traceLink;
    /** Whether {@link #traceLink} was looked for already (the look-up runs once per episode). */
    private volatile boolean traceLooked;
    /** Whether the episode has ended (closed, evicted, or the agent stopped): it ends exactly once. */
    private boolean ended;

    /**
     * The kinds of moments an episode summarises for its span: however many thousand stop/go cycles a respecting
     * writer goes through, the span carries each kind's count with its first and last moment, never a truncated list.
     */
    public static final int EVENT_STOP = 0;
    public static final int EVENT_GO = 1;
    public static final int EVENT_STALL = 2;
    public static final int EVENT_KINDS = 3;
    /*
     * Per kind: how many, and the first and last moment in milliseconds since the episode started, packed as
     * first << 32 | last. Fields rather than arrays: the per-connection budget. Under this object's lock.
     */
    private int stops;
    private int goes;
    private int stallEvents;
    private long stopMoments;
    private long goMoments;
    private long stallMoments;
    private final Clock clock;
    /** What names the stream this entry is (an HTTP/2 stream, a gRPC call); null for a whole connection. */
    private volatile StreamName stream;
    /** What the layer's probe keeps for this transport (see {@link #probeState()}); null until it keeps something. */
    private volatile Object probeState;
    /* The guard's mark (see guardOnce); under this object's lock. */
    private int guardBits;
    private String guardAction;
    private String guardReason;
    private boolean guardEnforced;
    private long guardNanos;
    private long guardBytes;

    TrackedConnection(Object transport, Layer layer, TransportProbe probe,
                      SocketAddress peer, SocketAddress local, Clock clock, long nowNanos, long pendingNow) {
        super(transport);
        this.clock = clock;
        this.episodeStartNanos = nowNanos;
        this.peakAtNanos = nowNanos;
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

    /** The stream this entry is, or null when it is a whole connection. */
    public StreamName stream() {
        return stream;
    }

    /** Names this entry as one stream of its connection (set by the layer once it knows the name). */
    public void stream(StreamName name) {
        this.stream = name;
    }

    /**
     * What the layer keeps for this transport while it is tracked, so that its frequent signals need not look it up
     * again (the HTTP/2 layer: the stream's state in Netty's flow controller, fixed for the stream's life); null when
     * nothing is kept.
     */
    public Object probeState() {
        return probeState;
    }

    /** See {@link #probeState()}. The value must stay true for the transport's whole life. */
    public void probeState(Object state) {
        this.probeState = state;
    }

    /** Pending bytes now, or -1 when the transport is gone. */
    public long pendingBytes() {
        Object t = get();
        return t == null ? -1 : probe.pendingBytes(t);
    }

    /** See {@link TransportProbe#stopState}: -1 when the transport is gone or cannot tell. */
    int transportStopState() {
        Object t = get();
        return t == null ? -1 : probe.stopState(t);
    }

    /** The connection-level flow-control window left ({@link TransportProbe#connectionWindow}); -1 when none. */
    public long connectionWindow() {
        Object t = get();
        return t == null ? -1 : probe.connectionWindow(t);
    }

    /** What the transport holds that is not bytes ({@link TransportProbe#pendingItems}); 0 once it is gone. */
    public long pendingItems() {
        Object t = get();
        return t == null ? 0 : Math.max(0, probe.pendingItems(t));
    }

    /** True the first time the timer finds this connection closed (its own thread only), false after. */
    boolean firstSeenClosed() {
        if (seenClosed) {
            return false;
        }
        seenClosed = true;
        return true;
    }

    boolean isLive() {
        Object t = get();
        return t != null && probe.isOpen(t);
    }

    /**
     * What names this connection across layers: the transport's own connection object where it has one (a Netty
     * channel), its addresses otherwise, itself when it has neither. Null when the transport is gone.
     */
    public Object connectionKey() {
        Object t = get();
        if (t == null) {
            return null;
        }
        Object k = probe.connection(t);
        if (k != null) {
            return k;
        }
        return peer != null || local != null ? new FourTuple(local, peer) : this;
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

    /** The connection's shares per layer (by layer index) when its total over all layers was highest, or null. */
    private volatile long[] peakShares;
    private volatile long peakTotal;

    /**
     * What the whole connection held, all layers together, at a collection: kept when it is the highest total of the
     * episode so far, with each layer's share, for the episode's span. Collections only (one per export interval).
     */
    void observeShares(long total, long[] byLayer) {
        if (total <= peakTotal) {
            return;
        }
        synchronized (this) {
            if (total > peakTotal) {
                peakShares = byLayer.clone();
                peakTotal = total;
            }
        }
    }

    /** Each layer's share (by layer index) at the highest total a collection saw in this episode; null if none. */
    public long[] peakShares() {
        return peakShares;
    }

    /** The connection's highest total over all layers a collection saw in this episode; 0 if none. */
    public long peakTotal() {
        return peakTotal;
    }

    /** Raises the episode's peak to {@code pending} if that is higher; safe from any thread. */
    public void observePending(long pending) {
        for (long p = peakPending; pending > p; p = peakPending) {
            if (PEAK.compareAndSet(this, p, pending)) {
                peakAtNanos = clock.nanoTime();
                return;
            }
        }
    }

    /** When the episode's pending bytes reached their peak (its start, if they never grew). */
    public long peakAtNanos() {
        return peakAtNanos;
    }


    // ---------------------------------------------------------------- transitions, driven by the Monitor

    /** A wait begins at {@code startNanos}, unless one is running; whether it began. */
    synchronized boolean beginWait(long startNanos) {
        if (waitStartNanos != 0) {
            return false;
        }
        waitStartNanos = startNanos;
        lastProgressNanos = startNanos;
        stallCounted = false;
        waits++;
        addEvent(EVENT_STOP, startNanos);
        return true;
    }

    /** The running wait ends at {@code nowNanos}; its length, or -1 when none was running. */
    synchronized long endWait(long nowNanos) {
        long started = waitStartNanos;
        if (started == 0) {
            return -1;
        }
        waitStartNanos = 0;
        calmSinceNanos = nowNanos;
        episodeWaitNanos += nowNanos - started;
        addEvent(EVENT_GO, nowNanos);
        return nowNanos - started;
    }

    /** Bytes drained while waiting: no clock read, the timer's next tick takes the mark as progress at that tick. */
    void markProgress() {
        if (lastProgressNanos != PROGRESSED) {
            lastProgressNanos = PROGRESSED;
        }
    }

    /** Progress seen at {@code nowNanos} by other means (the kernel's send queue shrank). */
    void progressAt(long nowNanos) {
        lastProgressNanos = nowNanos;
    }

    /**
     * How long the wait has gone without progress at {@code nowNanos}, a tick's time. A drain marked since the
     * last tick becomes progress at this tick, here and nowhere else, so that no reader does arithmetic on the mark.
     */
    long sinceProgress(long nowNanos) {
        long last = lastProgressNanos;
        if (last == PROGRESSED) {
            lastProgressNanos = nowNanos;
            return 0;
        }
        return nowNanos - last;
    }

    /** The running wait is a stall: true the first time for this wait, when it must be counted. */
    synchronized boolean stallOnce(long nowNanos) {
        if (waitStartNanos == 0 || stallCounted) {
            return false;
        }
        stallCounted = true;
        stalled = true;
        addEvent(EVENT_STALL, nowNanos);
        return true;
    }

    /** Whether the connection has not waited for {@code nanos} at {@code nowNanos}. */
    boolean calmFor(long nowNanos, long nanos) {
        return waitStartNanos == 0 && nowNanos - calmSinceNanos >= nanos;
    }

    long calmSinceNanos() {
        return calmSinceNanos;
    }

    /** The kernel's send queue now: whether it shrank since the last look (the reader is reading). */
    boolean kernelQueueShrank(long queued) {
        boolean shrank = lastKernelQueued >= 0 && queued < lastKernelQueued;
        lastKernelQueued = queued;
        return shrank;
    }

    /** The episode ends: true exactly once. */
    synchronized boolean endEpisode() {
        if (ended) {
            return false;
        }
        ended = true;
        return true;
    }

    /**
     * The connection's wait is a blocking write made from {@code site}: named on its episode, no write counted (the
     * application did not ignore a signal, it was made to wait).
     */
    void waitedAt(CallSite site) {
        waitSite = site;
    }

    /** The site of the last blocking write that made this connection wait, or null. */
    public CallSite waitSite() {
        return waitSite;
    }

    /**
     * One ignored write attributed to {@code site}. Single writer: a connection's writes reach its transport on one
     * thread at a time.
     */
    void ignored(CallSite site, long bytes) {
        lastSite = site;
        episodeIgnoredWrites++;
        episodeIgnoredBytes += bytes;
    }

    void markFoundAtAttach() {
        foundAtAttach = true;
    }

    /** Whether the trace context is still to be looked for (once per episode); marks it looked for. */
    boolean lookForTrace() {
        if (traceLooked) {
            return false;
        }
        traceLooked = true;
        return true;
    }

    void traceLink(TraceLink link) {
        traceLink = link;
    }

    /** Called under this object's lock. */
    private void addEvent(int kind, long nowNanos) {
        long millis = Math.min(Math.max(0, nowNanos - episodeStartNanos) / 1_000_000, Integer.MAX_VALUE);
        switch (kind) {
            case EVENT_STOP:
                stopMoments = moments(stops++, stopMoments, millis);
                break;
            case EVENT_GO:
                goMoments = moments(goes++, goMoments, millis);
                break;
            default:
                stallMoments = moments(stallEvents++, stallMoments, millis);
                break;
        }
    }

    private static long moments(int countBefore, long moments, long millis) {
        long first = countBefore == 0 ? millis : moments >>> 32;
        return first << 32 | millis;
    }

    /** How many moments of {@code kind} ({@link #EVENT_STOP}, {@link #EVENT_GO}, {@link #EVENT_STALL}). */
    public synchronized int eventCount(int kind) {
        return kind == EVENT_STOP ? stops : kind == EVENT_GO ? goes : stallEvents;
    }

    /** The first moment of {@code kind}, in {@link Clock} nanoseconds; meaningful when its count is not 0. */
    public synchronized long firstEventNanos(int kind) {
        return episodeStartNanos + (momentsOf(kind) >>> 32) * 1_000_000L;
    }

    /** The last moment of {@code kind}, in {@link Clock} nanoseconds; meaningful when its count is not 0. */
    public synchronized long lastEventNanos(int kind) {
        return episodeStartNanos + (momentsOf(kind) & 0xFFFF_FFFFL) * 1_000_000L;
    }

    private long momentsOf(int kind) {
        return kind == EVENT_STOP ? stopMoments : kind == EVENT_GO ? goMoments : stallMoments;
    }

    /** Closes the connection through its transport's own close (see {@link TransportProbe#close}). */
    public boolean closeTransport() {
        Object t = get();
        return t != null && probe.close(t);
    }

    /** See {@link TransportProbe#refusesOnWritePath}. */
    public boolean refusesOnWritePath() {
        return probe.refusesOnWritePath();
    }

    /** See {@link TransportProbe#refuse}. */
    public boolean refuseTransport(String message) {
        Object t = get();
        return t != null && probe.refuse(t, message);
    }

    /**
     * How long a running wait has gone without drain progress, at a time of the agent's timer after the monitor's
     * tick took the drains marked since the last one; 0 when not waiting.
     */
    public long sinceProgressAtTick(long nowNanos) {
        long last = lastProgressNanos;
        if (waitStartNanos == 0 || last == PROGRESSED) {
            return 0;
        }
        return Math.max(0, nowNanos - last);
    }

    /**
     * The guard's mark: bits of the reasons it acted on (or, observing, would have acted on) this connection, so that
     * each reason is acted on and said once per connection. True for the one caller that sets {@code bit}.
     */
    public synchronized boolean guardOnce(int bit, String action, String reason, boolean enforced, long nowNanos,
                                          long bytes) {
        if ((guardBits & bit) != 0) {
            return false;
        }
        guardBits |= bit;
        if (guardReason == null) {
            guardAction = action;
            guardReason = reason;
            guardEnforced = enforced;
            guardNanos = nowNanos;
            guardBytes = bytes;
        }
        return true;
    }

    /** Whether the guard acted (or would have) on this connection for the reason {@code bit}. */
    public synchronized boolean guarded(int bit) {
        return (guardBits & bit) != 0;
    }

    /** The guard's first action on this connection, for its span: null when none. */
    public synchronized String guardReason() {
        return guardReason;
    }

    public synchronized String guardAction() {
        return guardAction;
    }

    public synchronized boolean guardEnforced() {
        return guardEnforced;
    }

    public synchronized long guardNanos() {
        return guardNanos;
    }

    public synchronized long guardBytes() {
        return guardBytes;
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

    /** Time blocked within the episode up to {@code nowNanos}, a wait still running included. */
    public synchronized long episodeWaitNanos(long nowNanos) {
        long running = waitStartNanos;
        return episodeWaitNanos + (running != 0 ? Math.max(0, nowNanos - running) : 0);
    }

    public int waits() {
        return waits;
    }

    public boolean stalled() {
        return stalled;
    }

    public boolean foundAtAttach() {
        return foundAtAttach;
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

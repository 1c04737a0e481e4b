package io.highwater.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * The transport-neutral heart of the agent: layers report what they saw, the monitor decides what it means
 * and keeps the counts that telemetry reads. One instance per installed agent.
 */
public final class Monitor {

    private final ConnectionRegistry registry;
    private final CallSites callSites;
    private final Dropped dropped;
    private final StackInspector inspector;
    private final RateLimiter captures;
    private final double tolerance;
    private final Clock clock;
    private final long stallNanos;
    private final LongAdder[] ignoredBytes = new LongAdder[Signal.MAX];
    private final LongAdder[] stalls = new LongAdder[Layer.MAX];
    private final long[] endedPeak = new long[Layer.MAX];

    /** Waits that ended before telemetry was ready, replayed into it once (bounded). */
    private static final int EARLY_WAITS_MAX = 4096;
    private final Object waitsLock = new Object();
    private final List<EarlyWait> earlyWaits = new ArrayList<>();
    private volatile DrainWaits drainWaits;
    /** Episodes that ended before telemetry was ready, handed to it once (bounded; see endEpisode). */
    private static final int EARLY_EPISODES_MAX = 256;
    private final List<EndedEpisode> earlyEpisodes = new ArrayList<>();
    /** Null until telemetry is ready. */
    private volatile EpisodeSink episodes;
    /** Run once, at the first sign of backpressure: the agent builds its telemetry then, not at start-up. */
    private volatile Runnable firstActivity;
    private volatile TraceLink.Probe traces = TraceLink.Probe.NONE;
    private volatile KernelSendQueues kernel;
    private final List<ConnectionShare> shares = new CopyOnWriteArrayList<>();
    /** Null unless the guard is on: the slow paths that ask it then pay one null check. */
    private volatile WriteGuard guard;
    private volatile GuardCounts guardCounts;

    /** A wait that ended before telemetry was ready. */
    private static final class EarlyWait {
        final Layer layer;
        final double seconds;

        EarlyWait(Layer layer, double seconds) {
            this.layer = layer;
            this.seconds = seconds;
        }
    }

    /** An episode that ended before telemetry was ready: its connection's state does not change once ended. */
    private static final class EndedEpisode {
        final TrackedConnection connection;
        final long endNanos;
        final long pendingAtEnd;
        final String error;

        EndedEpisode(TrackedConnection connection, long endNanos, long pendingAtEnd, String error) {
            this.connection = connection;
            this.endNanos = endNanos;
            this.pendingAtEnd = pendingAtEnd;
            this.error = error;
        }

        void handTo(EpisodeSink sink) {
            sink.ended(connection, endNanos, pendingAtEnd, error);
        }
    }

    public Monitor(ConnectionRegistry registry, CallSites callSites, Dropped dropped, StackInspector inspector,
                   RateLimiter captures, double tolerance, Clock clock, long stallNanos) {
        this.registry = registry;
        this.callSites = callSites;
        this.dropped = dropped;
        this.inspector = inspector;
        this.captures = captures;
        this.tolerance = tolerance;
        this.clock = clock;
        this.stallNanos = stallNanos;
        for (int i = 0; i < ignoredBytes.length; i++) {
            ignoredBytes[i] = new LongAdder();
        }
        for (int i = 0; i < stalls.length; i++) {
            stalls[i] = new LongAdder();
        }
    }

    public Clock clock() {
        return clock;
    }

    /** How one integration's transports enter the model: {@code layer}'s connections, read through {@code probe}. */
    public Tracker tracker(Layer layer, TransportProbe probe) {
        return new Tracker(this, layer, probe);
    }

    /** The tracked connection of {@code transport}, registering it (at its first stop signal, or first seen). */
    TrackedConnection track(Object transport, Layer layer, TransportProbe probe, boolean atStopSignal,
                            long pendingNow) {
        TrackedConnection c = registry.get(transport);
        if (c != null) {
            return c;
        }
        activity();
        return registry.register(transport, layer, probe, probe.peer(transport), probe.local(transport),
                atStopSignal, clock.nanoTime(), pendingNow);
    }

    /**
     * Lets {@code share}'s layer count what it holds for connections that another layer tracks (a Netty channel's
     * outbound buffer under a Reactor or HTTP/2 stream entry): see {@link Snapshot}.
     */
    public void addShare(ConnectionShare share) {
        shares.add(share);
    }

    public void removeShare(ConnectionShare share) {
        shares.remove(share);
    }

    List<ConnectionShare> shares() {
        return shares;
    }

    /** Plugs in the guard ({@code highwater.guard.mode} observe or enforce); never called when it is off. */
    public void attachGuard(WriteGuard g, GuardCounts counts) {
        guardCounts = counts;
        guard = g;
    }

    /** What the guard did, for telemetry; null when it is off. */
    public GuardCounts guardCounts() {
        return guardCounts;
    }

    /** The guard, or null when it is off. */
    public WriteGuard guard() {
        return guard;
    }

    /** A stop signal: a wait begins, unless one is already running. */
    public void stop(TrackedConnection c, long pendingNow) {
        c.observePending(pendingNow);
        c.beginWait(clock.nanoTime());
    }

    /**
     * A stop signal noticed after the fact: the wait began at {@code startNanos} (a blocking write found to be
     * still running by the agent's timer), unless one is already running.
     */
    public void stopSince(TrackedConnection c, long pendingNow, long startNanos) {
        c.observePending(pendingNow);
        c.beginWait(startNanos);
    }

    /**
     * A wait of {@code nanos} on {@code layer} that began and ended without its connection being tracked (a
     * blocking write that returned before the agent's timer saw it): recorded in the histogram only.
     */
    public void waited(Layer layer, long nanos) {
        recordWait(layer, nanos / 1e9);
    }

    /**
     * A blocking write that was a wait returned: it drained, or it failed with {@code pendingLeft} bytes undelivered
     * (the client went away mid-write), which ends the connection's episode.
     */
    public void blockingWriteReturned(TrackedConnection c, boolean failed, long pendingLeft) {
        if (failed) {
            closed(c, Math.max(0, pendingLeft));
        } else {
            go(c);
        }
    }

    /** A go signal: the running wait ends and is recorded. */
    public void go(TrackedConnection c) {
        endWait(c, clock.nanoTime());
    }

    /**
     * Bytes drained while waiting: resets the stall clock. Called at every drain of a waiting connection (Netty's at
     * every flush while unwritable), so it reads no clock and stores at most once per timer tick: it marks the
     * connection, and the timer's next tick takes the mark as progress at that tick. A stall is therefore noticed
     * up to one tick later than the threshold, never earlier.
     */
    public void progress(TrackedConnection c) {
        c.markProgress();
    }

    /**
     * The connection closed with {@code pendingAtClose} bytes still queued: a running wait is recorded up to now,
     * and the episode ends (badly, when bytes were left: the client gave up or was cut off).
     */
    public void closed(TrackedConnection c, long pendingAtClose) {
        closed(c, pendingAtClose, pendingAtClose > 0
                ? "connection closed with " + pendingAtClose + " bytes still pending" : null);
    }

    /**
     * As {@link #closed(TrackedConnection, long)}, where the layer knows why the connection is closed (a framework
     * closing it for a limit): {@code reason} becomes the episode's error, or null for none.
     */
    public void closed(TrackedConnection c, long pendingAtClose, String reason) {
        registry.evict(c);
        // the transport's count at close includes its per-message overhead, which writes do not report
        c.observePending(pendingAtClose);
        long now = clock.nanoTime();
        endWait(c, now);
        endEpisode(c, now, pendingAtClose, reason);
    }

    private void endWait(TrackedConnection c, long now) {
        long waited = c.endWait(now);
        if (waited >= 0) {
            recordWait(c.layer(), waited / 1e9);
        }
    }

    private void endEpisode(TrackedConnection c, long endNanos, long pendingAtEnd, String error) {
        if (!c.endEpisode()) {
            return;
        }
        synchronized (endedPeak) {
            int l = c.layer().index();
            endedPeak[l] = Math.max(endedPeak[l], c.peakPending());
        }
        EpisodeSink sink = episodes;
        if (sink == null) {
            synchronized (waitsLock) {
                sink = episodes;
                if (sink == null) {
                    // the connection's episode state does not change once ended: the span can be built later
                    if (earlyEpisodes.size() < EARLY_EPISODES_MAX) {
                        earlyEpisodes.add(new EndedEpisode(c, endNanos, pendingAtEnd, error));
                    } else {
                        dropped.add(DropKind.SPAN);
                    }
                    return;
                }
            }
        }
        try {
            sink.ended(c, endNanos, pendingAtEnd, error);
        } catch (RuntimeException e) {
            // a failing sink must not break the transport's thread
        }
    }

    /**
     * The agent stops (JVM shutdown or detach): every episode still open ends now, as an error when the
     * connection was still waiting or had bytes pending, so that its span reaches the final export. Waits still
     * running are left running: they did not end, and the final export must still count their connections as
     * blocked, with the oldest wait as long as it is (the span counts a running wait up to its end).
     */
    public void endAll(String reason) {
        long now = clock.nanoTime();
        for (TrackedConnection c : registry.all()) {
            long pending = Math.max(0, c.pendingBytes());
            boolean waiting = c.isWaiting();
            endEpisode(c, now, pending, waiting || pending > 0 ? reason + " with " + pending + " bytes pending" : null);
        }
    }

    /** Plugs in the span builder once telemetry is up; episodes that ended before are handed to it first. */
    public void attachEpisodes(EpisodeSink sink) {
        synchronized (waitsLock) {
            for (EndedEpisode e : earlyEpisodes) {
                try {
                    e.handTo(sink);
                } catch (RuntimeException ignored) {
                    // as in endEpisode: one bad episode does not stop the others
                }
            }
            earlyEpisodes.clear();
            episodes = sink;
        }
    }

    /**
     * {@code action} runs once, on the thread that reports the first sign of backpressure (a connection entering
     * the registry, a wait, an ignored write), before that is recorded; it must be quick and must not block.
     */
    public void onFirstActivity(Runnable action) {
        firstActivity = action;
    }

    private void activity() {
        Runnable r = firstActivity;
        if (r != null) {
            firstActivity = null;
            try {
                r.run();
            } catch (RuntimeException e) {
                // the transport's thread is not the place to fail
            }
        }
    }

    /**
     * Lets stall detection see drain progress in the kernel: with a large socket send buffer a slow but steady
     * reader drains the kernel's queue for seconds before the transport gets to hand over more bytes.
     */
    public void attachKernelQueues(KernelSendQueues queues) {
        kernel = queues;
    }

    public void attachTraceProbe(TraceLink.Probe probe) {
        traces = probe;
    }

    /**
     * Remembers the trace context current on this thread, once per episode: call it on the thread whose write
     * caused a stop signal or was ignored (for a write submitted from outside the event loop, the submitter's).
     */
    public void captureTrace(TrackedConnection c) {
        // once per episode: a respecting writer turns unwritable thousands of times a second
        if (c.lookForTrace()) {
            c.traceLink(traces.current());
        }
    }

    public Dropped droppedCounter() {
        return dropped;
    }

    /**
     * The agent's timer: counts stalls (a wait with no drain progress for the stall threshold, once per wait),
     * ends the waits of connections that closed or were collected without a close signal, and lets connections
     * that have been calm for one stall threshold leave the registry.
     */
    public void tick() {
        long now = clock.nanoTime();
        List<TrackedConnection> all = registry.all();
        kernelProgress(now, all);
        for (TrackedConnection c : all) {
            if (!c.isLive()) {
                // closed, and its layer's own close signal, which knows the bytes left, may be running on another
                // thread right now (Netty's channel reports closed before its outbound buffer is failed and closed):
                // that signal gets one tick; then, or when the transport is gone, the episode ends here, where what was
                // pending is unknown
                if (c.get() == null || !c.firstSeenClosed()) {
                    closed(c, 0);
                }
                continue;
            }
            reconcile(c);
            if (c.isWaiting()) {
                if (c.sinceProgress(now) >= stallNanos && c.stallOnce(now)) {
                    stalls[c.layer().index()].increment();
                }
            } else if (c.calmFor(now, stallNanos) && registry.evict(c)) {
                // drained for good: the episode ended when its last wait did
                endEpisode(c, c.calmSinceNanos(), Math.max(0, c.pendingBytes()), null);
            }
        }
    }

    /**
     * Makes the model agree with the transport where a signal was missed: a connection the transport holds in a stop
     * state (Netty: unwritable, i.e. above its high-water mark) is waiting, and one it holds writable is not. Signals
     * can be missed by design (a channel already unwritable when the agent attached, whose next writability change
     * may never come) or by a race between threads; the episode must not show bytes held beyond the mark with no
     * connection blocked.
     */
    private void reconcile(TrackedConnection c) {
        int state = c.transportStopState();
        if (state > 0 && !c.isWaiting()) {
            stop(c, Math.max(0, c.pendingBytes()));
        } else if (state == 0 && c.isWaiting()) {
            go(c);
        }
    }

    /**
     * The agent found {@code c} already in a stop state when it attached: its wait counts from now, and its span
     * says that it began earlier.
     */
    public void foundAtAttach(TrackedConnection c, long pendingNow) {
        c.markFoundAtAttach();
        stop(c, pendingNow);
    }

    /** The highest pending bytes of any episode that has ended on this layer. */
    public long endedEpisodePeak(Layer layer) {
        synchronized (endedPeak) {
            return endedPeak[layer.index()];
        }
    }

    /**
     * For waits that have gone half a stall threshold without progress at the transport, a shrinking kernel send
     * queue counts as progress: the reader is reading, the kernel's buffer just hides it. One read of the kernel's
     * tables per tick, and only when such a wait exists.
     */
    private void kernelProgress(long now, List<TrackedConnection> all) {
        KernelSendQueues k = kernel;
        if (k == null) {
            return;
        }
        List<TrackedConnection> suspects = null;
        for (TrackedConnection c : all) {
            if (c.isWaiting() && c.sinceProgress(now) >= stallNanos / 2) {
                if (suspects == null) {
                    suspects = new ArrayList<>();
                }
                suspects.add(c);
            }
        }
        if (suspects == null) {
            return;
        }
        java.util.Map<TrackedConnection, Long> queued = k.read(suspects);
        for (TrackedConnection c : suspects) {
            Long q = queued.get(c);
            if (q == null) {
                continue;
            }
            if (c.kernelQueueShrank(q)) {
                c.progressAt(now);
            }
        }
    }

    public long stalls(Layer layer) {
        return stalls[layer.index()].sum();
    }

    /** Plugs in the histogram once telemetry is up; waits that ended before are replayed into it. */
    public void attachDrainWaits(DrainWaits sink) {
        synchronized (waitsLock) {
            for (EarlyWait w : earlyWaits) {
                sink.record(w.layer, w.seconds);
            }
            earlyWaits.clear();
            drainWaits = sink;
        }
    }

    private void recordWait(Layer layer, double seconds) {
        activity();
        DrainWaits sink = drainWaits;
        if (sink != null) {
            sink.record(layer, seconds);
            return;
        }
        synchronized (waitsLock) {
            sink = drainWaits;
            if (sink == null) {
                if (earlyWaits.size() < EARLY_WAITS_MAX) {
                    earlyWaits.add(new EarlyWait(layer, seconds));
                }
                return;
            }
        }
        sink.record(layer, seconds);
    }

    public ConnectionRegistry registry() {
        return registry;
    }

    public CallSites callSites() {
        return callSites;
    }

    public Dropped dropped() {
        return dropped;
    }

    /**
     * Whether a write made while the transport said stop goes beyond the tolerance: the bytes already pending
     * exceed the high-water mark by more than {@code tolerance} high-water marks.
     */
    public boolean beyondTolerance(long pendingBefore, long highWaterMark) {
        return pendingBefore > highWaterMark + (long) (tolerance * highWaterMark);
    }

    /**
     * Counts one ignored write of {@code bytes} and attributes it to the application frame on the current
     * thread. Stack walks are rate-limited; while limited, the connection's last attributed site is used, so
     * counts stay exact.
     *
     * @param connection the tracked connection, or null when the registry had no room for it
     */
    public void ignoredWrite(TrackedConnection connection, Signal signal, long bytes) {
        ignoredWrite(connection, signal, bytes, null);
    }

    /**
     * As {@link #ignoredWrite(TrackedConnection, Signal, long)}, where the caller already walked the stack: {@code
     * walked} is that walk's result, or null when it did not walk.
     */
    public void ignoredWrite(TrackedConnection connection, Signal signal, long bytes, StackInspector.Result walked) {
        activity();
        ignoredBytes[signal.index()].add(bytes);
        CallSite site = connection != null ? connection.lastSite() : null;
        if (walked != null) {
            site = callSites.site(signal, walked.function);
        } else if ((connection != null && site == null) || captures.tryAcquire()) {
            // a tracked connection's first ignored write is always attributed (bounded by the registry's cap);
            // later ones, and writes of connections the registry had no room for, only when the rate limit allows
            site = callSites.site(signal, inspector.inspect().function);
        } else if (site == null) {
            site = callSites.unknown(signal);
        }
        if (connection != null) {
            connection.ignored(site, bytes);
        }
        site.recordWrite();
    }

    /**
     * Names the application frame a blocking write of {@code c} was made from, read from the blocked thread's
     * {@code stack} (taken by the agent's timer while the thread waits), on the connection's episode; counts nothing.
     */
    public void waitSite(TrackedConnection c, Signal signal, StackTraceElement[] stack) {
        String function = inspector.applicationFunction(stack);
        if (function != null) {
            c.waitedAt(callSites.site(signal, function));
        }
    }

    /** Whether the call-site rate limit lets one more stack walk through now. */
    public boolean mayWalkStack() {
        return captures.tryAcquire();
    }

    public StackInspector inspector() {
        return inspector;
    }

    public long ignoredBytes(Signal signal) {
        return ignoredBytes[signal.index()].sum();
    }
}

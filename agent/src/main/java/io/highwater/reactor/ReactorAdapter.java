package io.highwater.reactor;

import io.highwater.core.Monitor;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import io.highwater.reactor.bootstrap.ReactorHooks;

import java.lang.ref.WeakReference;
import java.net.SocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Queue;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Translates what the Reactor advice sees into the model; slow paths only (an emission while the downstream demand
 * is 0, a refused emission).
 *
 * <p>The tracked transport is the queue's owner (the sink or the processor); its connection is the Netty channel the
 * subscriber chain ends in, so that Netty's share of the same connection adds up beside it. Its stop state: the queue
 * holds elements (the downstream has not taken them), its go: the queue is empty again (read by the agent's timer:
 * with Reactor Netty's refill of 64 elements at a time, the demand itself flips far too often to be a signal). An
 * emission while the demand is 0 with the queue beyond tolerance (more than {@code (1 + tolerance)} times the
 * nominal mark of {@code highwater.reactor.mark.items} elements) is an ignored write, {@code demand_exhausted}; an
 * emission a bounded sink refuses ({@code FAIL_OVERFLOW}) is one at once, its element lost. A bounded queue
 * ({@code onBackpressureBuffer(n)}, a multicast sink's default 256) holds pending elements but never grows without
 * end: emissions into it are never ignored writes.
 *
 * <p>Reactor's queues cannot be walked, so the bytes are counted as elements enter while the demand is 0 (every
 * element that can stay queued): pending bytes are the queue's element count times the mean size recorded, exact
 * for uniform rows. Elements that are not bytes are items.
 */
final class ReactorAdapter implements ReactorHooks {

    /** What was recorded of one owner's elements. */
    static final class Ledger {
        final AtomicLong count = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        volatile boolean items;
        /** 0 not known yet, 1 bounded (never ignoring), 2 unbounded. */
        volatile int bound;
        /**
         * The connection's channel, once found. Not always there at the first element: Spring's write barrier
         * ({@code ChannelSendOperator}) subscribes the connection's writer only after the first element arrived.
         */
        volatile WeakReference<Object> channel;
        /** When this owner was first seen, and when its channel was last looked for (monotonic nanos). */
        final long firstSeenNanos = System.nanoTime();
        volatile long lookedAtNanos;

        void record(long size) {
            if (size < 0) {
                items = true;
                return;
            }
            count.incrementAndGet();
            bytes.addAndGet(size);
        }

        /** Bytes of {@code elements} queued elements, at the mean recorded size; 0 for items. */
        long bytesOf(long elements) {
            long n = count.get();
            return items || n == 0 ? 0 : elements * (bytes.get() / n);
        }
    }

    /** The last owner seen, so that a runaway producer does not pay a registry look-up per element. */
    private static final class Last {
        final WeakReference<Object> owner;
        final TrackedConnection connection;
        final Ledger ledger;
        /** Not tracked yet (its connection not found yet): look again from this moment on. */
        final long retryAtNanos;

        Last(Object owner, TrackedConnection connection, Ledger ledger, long retryAtNanos) {
            this.owner = new WeakReference<>(owner);
            this.connection = connection;
            this.ledger = ledger;
            this.retryAtNanos = retryAtNanos;
        }
    }

    /** How long an owner's connection is looked for before it is tracked without one. */
    private static final long FIND_CONNECTION_NANOS = 1_000_000_000L;
    /** How often it is looked for meanwhile. */
    private static final long LOOK_AGAIN_NANOS = 20_000_000L;

    private final Monitor monitor;
    private final ReactorAccess access;
    private final Tracker tracker;
    private final long mark;
    /** By identity: the owners are sinks and processors, which keep Object's equals. */
    private final Map<Object, Ledger> ledgers = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile Last last;

    ReactorAdapter(Monitor monitor, ReactorAccess access, long mark) {
        this.monitor = monitor;
        this.access = access;
        this.mark = mark;
        this.tracker = monitor.tracker(ReactorIntegration.LAYER, new Probe());
    }

    @Override
    public void nextWithoutDemand(Object owner, Queue<?> queue, Object element) {
        Last l = entry(owner);
        long size = access.size(element);
        l.ledger.record(size);
        TrackedConnection c = l.connection;
        if (c != null && !c.isWaiting()) {
            monitor.stop(c, Math.max(0, c.pendingBytes()));
        }
        if (bounded(l.ledger, owner, queue) || !monitor.beyondTolerance(queue.size(), mark)) {
            return;
        }
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, ReactorIntegration.DEMAND_EXHAUSTED, Math.max(0, size));
    }

    /** Whether the owner's queue is bounded (its elements are pending, never ignored), decided once per owner. */
    private boolean bounded(Ledger ledger, Object owner, Queue<?> queue) {
        int b = ledger.bound;
        if (b == 0) {
            b = access.bounded(owner, queue) ? 1 : 2;
            ledger.bound = b;
        }
        return b == 1;
    }

    @Override
    public void emissionFailed(Object owner, Object result, Object element) {
        if (!(result instanceof Enum) || !"FAIL_OVERFLOW".equals(((Enum<?>) result).name())) {
            // no subscriber yet, cancelled, terminated: not backpressure
            return;
        }
        Last l = entry(owner);
        // the refused element is not queued, but it is the best sample of the size of those that are
        l.ledger.record(access.size(element));
        TrackedConnection c = l.connection;
        if (c != null) {
            if (!c.isWaiting()) {
                monitor.stop(c, Math.max(0, c.pendingBytes()));
            }
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, ReactorIntegration.DEMAND_EXHAUSTED, Math.max(0, access.size(element)));
    }

    private Last entry(Object owner) {
        Last l = last;
        if (l != null && l.owner.get() == owner) {
            if (l.retryAtNanos == 0) {
                if (l.connection == null || l.connection.isWaiting()) {
                    return l;
                }
            } else if (System.nanoTime() < l.retryAtNanos) {
                return l;
            }
        }
        // a new owner, one whose wait ended (it may have left the registry since), or one not tracked yet
        Ledger ledger = ledgers.computeIfAbsent(owner, o -> new Ledger());
        long now = System.nanoTime();
        if (channel(owner) == null && now - ledger.firstSeenNanos < FIND_CONNECTION_NANOS) {
            // its connection is named when it is tracked: wait a moment for the chain to reach it
            l = new Last(owner, null, ledger, now + LOOK_AGAIN_NANOS);
        } else {
            l = new Last(owner, tracker.track(owner, true, 0), ledger, 0);
        }
        last = l;
        return l;
    }

    private Ledger ledger(Object owner) {
        return ledgers.get(owner);
    }

    /**
     * The owner's connection channel, kept once found; while not found, looked for again at most every
     * {@link #LOOK_AGAIN_NANOS}. Null when its chain serves none (yet).
     */
    private Object channel(Object owner) {
        Ledger l = ledger(owner);
        if (l == null) {
            return access.connection(owner);
        }
        WeakReference<Object> found = l.channel;
        if (found != null) {
            return found.get();
        }
        long now = System.nanoTime();
        if (l.lookedAtNanos != 0 && now - l.lookedAtNanos < LOOK_AGAIN_NANOS) {
            return null;
        }
        l.lookedAtNanos = now;
        Object channel = access.connection(owner);
        if (channel != null) {
            l.channel = new WeakReference<>(channel);
        }
        return channel;
    }

    /** A queue's owner: its bytes at the recorded mean, its stop state, its connection's channel. */
    private final class Probe implements TransportProbe {
        @Override
        public long pendingBytes(Object owner) {
            Ledger l = ledger(owner);
            return l == null ? 0 : l.bytesOf(access.elements(owner));
        }

        @Override
        public long pendingItems(Object owner) {
            Ledger l = ledger(owner);
            return l != null && l.items ? access.elements(owner) : 0;
        }

        @Override
        public boolean isOpen(Object owner) {
            Object channel = channel(owner);
            // no connection: as long as it holds elements
            return channel != null ? access.channels().isOpen(channel) : access.elements(owner) > 0;
        }

        @Override
        public SocketAddress peer(Object owner) {
            return access.channels().remote(channel(owner));
        }

        @Override
        public SocketAddress local(Object owner) {
            return access.channels().local(channel(owner));
        }

        @Override
        public int stopState(Object owner) {
            return access.elements(owner) > 0 ? 1 : 0;
        }

        @Override
        public Object connection(Object owner) {
            return channel(owner);
        }
    }
}

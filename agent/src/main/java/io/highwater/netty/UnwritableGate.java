package io.highwater.netty;

import io.highwater.base.IdentityKey;
import io.highwater.core.GatedMap;
import io.highwater.core.TransportProbe;
import io.highwater.netty.bootstrap.NettyCalls;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Predicate;

/**
 * The Netty channels that are unwritable now, as far as their transitions tell (an outbound buffer above its
 * high-water mark, an HTTP/2 stream channel without window), by the channel's identity, mirrored into
 * {@link NettyCalls#unwritableChannels} (how many) and {@link NettyCalls#unwritableFilter} (a counting filter over
 * their identity hashes). Every hop of every write passes the pipeline-write advice: while no channel in the JVM is
 * unwritable (nearly always, on a healthy server) one read of that counter is all it costs, and while some are,
 * one filter read tells nearly every other channel's write that it is not one of them, instead of
 * {@code ctx.channel().isWritable()} at each hop (BENCHMARKS.md, pipeline writes).
 *
 * <p>Exactness matters one way only: a channel that is unwritable and not in here is not judged, a channel that is
 * writable and still in here only costs the check it cost before. So each transition re-reads the state under a
 * lock of its own key's stripe (writability flips on the event loop and, for writes submitted from other threads,
 * on those threads: the last update of a key always sees the last state), a closed channel leaves at its close or
 * at the next tick, and the gate stays open (a {@link TransportProbe#stopState} of -1) when the state cannot be read.
 * Bounded: beyond {@code MAX} entries a channel is refused, as {@link GatedMap} refuses one.
 *
 * <p>A channel's entry outlives its stop: a go only takes it out of the counter and the filter, and its next stop
 * puts the same entry back. An HTTP/2 stream channel of a fast stream flips at every flush (~18,000 times a second in
 * bench/scripts/streaming.sh --h2c), and a map entry made and dropped per stop (a weak key, a map node) was all the
 * allocation of a flip pair (80 B, {@code Http2StreamFlip}). Kept entries of writable channels leave at the timer's
 * next tick (and at their channel's close), so that the map holds the channels that flip now, not all that ever did.
 * This is {@link GatedMap}'s scheme (the same counter, the same filter and slot formula, the filter raised before an
 * entry counts and lowered after it stops counting) with membership as a flag of a kept entry.
 */
final class UnwritableGate {

    private static final int STRIPES = 64;
    private static final int MAX = 100_000;

    /** One per JVM, as the counter it mirrors is: the netty and http2 integrations both feed it. */
    static final UnwritableGate GATE = new UnwritableGate();

    /** A channel's entry: kept across its stops and goes, counted in the gate while {@link #member}. */
    private static final class Entry {
        /** How the timer tells whether the channel is still open (a shared instance). */
        final Predicate<Object> open;
        /** Whether the channel counts as unwritable now; under its key's stripe lock. */
        boolean member;

        Entry(Predicate<Object> open) {
            this.open = open;
        }
    }

    /** By a weak identity key of the channel. */
    private final ConcurrentHashMap<Object, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicInteger gate = NettyCalls.unwritableChannels;
    private final AtomicIntegerArray filter = NettyCalls.unwritableFilter;
    private final Object[] stripes = new Object[STRIPES];

    private UnwritableGate() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Object();
        }
    }

    /**
     * {@code channel} may have changed its writability: its membership follows what {@code probe} reads from
     * {@code transport} (its outbound buffer, or the stream channel itself) now; {@code open} tells the timer
     * whether the channel is still open (a shared instance: nothing is allocated per channel but the entry). Answers
     * the {@link TransportProbe#stopState} it read, so that a caller that needs it does not read it twice.
     */
    int changed(Object channel, TransportProbe probe, Object transport, Predicate<Object> open) {
        int hash = System.identityHashCode(channel);
        synchronized (stripes[hash & (STRIPES - 1)]) {
            int state = probe.stopState(transport);
            Entry e = entries.get(new IdentityKey.Strong(channel));
            if (state != 0) {
                if (e == null) {
                    e = admit(channel, open);
                }
                if (e != null && !e.member) {
                    filter.incrementAndGet(GatedMap.slot(hash));
                    e.member = true;
                    gate.incrementAndGet();
                }
            } else if (e != null && e.member) {
                leave(e, hash);
            }
            return state;
        }
    }

    /** A new entry for {@code channel} (not counted yet), or null when the map is full. Under its stripe lock. */
    private Entry admit(Object channel, Predicate<Object> open) {
        if (entries.size() >= MAX) {
            return null;
        }
        Entry e = new Entry(open);
        entries.put(new IdentityKey.Weak(channel), e);
        return e;
    }

    /** {@code e} stops counting. Under its key's stripe lock. */
    private void leave(Entry e, int hash) {
        e.member = false;
        filter.decrementAndGet(GatedMap.slot(hash));
        gate.decrementAndGet();
    }

    /** {@code channel} closed: nothing written to it piles up any more. */
    void closed(Object channel) {
        int hash = System.identityHashCode(channel);
        synchronized (stripes[hash & (STRIPES - 1)]) {
            Entry e = entries.remove(new IdentityKey.Strong(channel));
            if (e != null && e.member) {
                leave(e, hash);
            }
        }
    }

    /**
     * On the agent's timer: entries whose channel closed without the agent seeing it, collected ones, and the kept
     * entries of writable channels.
     */
    void tick() {
        for (Map.Entry<Object, Entry> me : entries.entrySet()) {
            Object key = me.getKey();
            Entry e = me.getValue();
            // the weak key kept its referent's identity hash: the same stripe as the channel's own signals
            int hash = key.hashCode();
            synchronized (stripes[hash & (STRIPES - 1)]) {
                Object channel = ((IdentityKey.Weak) key).get();
                if ((channel == null || !e.member || !e.open.test(channel)) && entries.remove(key, e) && e.member) {
                    leave(e, hash);
                }
            }
        }
    }

    /** The agent is going away: the advice, if it stays, judges nothing more. */
    void clear() {
        for (Map.Entry<Object, Entry> me : entries.entrySet()) {
            int hash = me.getKey().hashCode();
            synchronized (stripes[hash & (STRIPES - 1)]) {
                Entry e = me.getValue();
                if (entries.remove(me.getKey(), e) && e.member) {
                    leave(e, hash);
                }
            }
        }
    }

    /** How many channels count as unwritable. */
    int size() {
        int n = 0;
        for (Entry e : entries.values()) {
            if (e.member) {
                n++;
            }
        }
        return n;
    }

    /** How many entries are kept, counted or not. */
    int kept() {
        return entries.size();
    }
}

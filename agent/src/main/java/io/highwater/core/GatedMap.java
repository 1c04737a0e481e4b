package io.highwater.core;

import io.highwater.base.IdentityKey;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The transports that are in some state right now (servlet streams that are not ready, sockets whose writer
 * waits), by identity, with their number mirrored in a gate: a bootstrap counter that the advice reads first and
 * that lets it go no further while it is 0. Keys are held weakly (swept by {@link #sweep}) or strongly (removed by
 * their owner). Bounded: an entry beyond {@code max} is refused.
 *
 * <p>While any entry exists, each write asks whether its own transport is one of them, and a busy server nearly
 * always has some slow client. A counting filter over the keys' identity hashes answers "no" with one array read;
 * only a non-zero slot goes on to the map, whose probe key is an allocation. The filter is raised before an entry
 * is added and lowered after it is removed, so it never says "no" for a key in the map.
 */
public final class GatedMap<V> {

    /**
     * The filter's length. A filter kept in a bootstrap class, read by advice without the map, must use this length
     * and {@link #slot}'s formula (the Netty gate does: {@code NettyCalls.mayBeUnwritable}).
     */
    public static final int FILTER_SLOTS = 4096;

    private final ConcurrentHashMap<Object, V> map = new ConcurrentHashMap<>();
    private final AtomicIntegerArray filter;
    private final AtomicInteger gate;
    private final boolean weak;
    private final int max;

    /**
     * @param gate the bootstrap counter the advice reads; this map adds and removes exactly its own entries
     * @param weak whether keys are held weakly (entries of collected transports leave at {@link #sweep})
     * @param max  how many entries at most
     */
    public GatedMap(AtomicInteger gate, boolean weak, int max) {
        this(gate, new AtomicIntegerArray(FILTER_SLOTS), weak, max);
    }

    /**
     * As {@link #GatedMap(AtomicInteger, boolean, int)}, with the counting filter in {@code filter} (of
     * {@link #FILTER_SLOTS} slots), where advice can read it too.
     */
    public GatedMap(AtomicInteger gate, AtomicIntegerArray filter, boolean weak, int max) {
        if (filter.length() != FILTER_SLOTS) {
            throw new IllegalArgumentException("a gated map's filter has " + FILTER_SLOTS + " slots");
        }
        this.filter = filter;
        this.gate = gate;
        this.weak = weak;
        this.max = max;
    }

    /** The filter slot of an identity hash: {@code (h ^ (h >>> 12)) & (FILTER_SLOTS - 1)}. */
    public static int slot(int identityHash) {
        return (identityHash ^ (identityHash >>> 12)) & (FILTER_SLOTS - 1);
    }

    /** False means {@code key} is certainly not in the map; one array read. */
    public boolean mayContain(Object key) {
        return filter.get(slot(System.identityHashCode(key))) != 0;
    }

    /** Adds {@code key} unless it is there or the map is full; whether it was added. */
    public boolean add(Object key, V value) {
        if (map.size() >= max) {
            return false;
        }
        Object k = weak ? new IdentityKey.Weak(key) : new IdentityKey.Strong(key);
        int slot = slot(k.hashCode());
        filter.incrementAndGet(slot);
        if (map.putIfAbsent(k, value) == null) {
            gate.incrementAndGet();
            return true;
        }
        filter.decrementAndGet(slot);
        return false;
    }

    public V get(Object key) {
        return mayContain(key) ? map.get(new IdentityKey.Strong(key)) : null;
    }

    public boolean contains(Object key) {
        return get(key) != null;
    }

    /** Removes {@code key}; its value, or null when it was not there. */
    public V remove(Object key) {
        if (!mayContain(key)) {
            return null;
        }
        V v = map.remove(new IdentityKey.Strong(key));
        if (v != null) {
            filter.decrementAndGet(slot(System.identityHashCode(key)));
            gate.decrementAndGet();
        }
        return v;
    }

    public boolean isEmpty() {
        return map.isEmpty();
    }

    public int size() {
        return map.size();
    }

    /** The keys whose transports still live. */
    public List<Object> keys() {
        List<Object> out = new ArrayList<>(map.size());
        for (Object k : map.keySet()) {
            Object referent = weak ? ((IdentityKey.Weak) k).get() : ((IdentityKey.Strong) k).referent;
            if (referent != null) {
                out.add(referent);
            }
        }
        return out;
    }

    /** Drops the entries of collected transports (weak keys); how many. */
    public int sweep() {
        if (!weak) {
            return 0;
        }
        int n = 0;
        for (Iterator<Object> it = map.keySet().iterator(); it.hasNext(); ) {
            Object k = it.next();
            if (((IdentityKey.Weak) k).get() == null) {
                it.remove();
                // the key kept its referent's identity hash
                filter.decrementAndGet(slot(k.hashCode()));
                gate.decrementAndGet();
                n++;
            }
        }
        return n;
    }

    /**
     * Drops the entries whose key {@code gone} says is gone for good (a closed channel), and those of collected
     * transports; how many.
     */
    public int removeIf(java.util.function.BiPredicate<Object, V> gone) {
        int n = 0;
        for (Iterator<Map.Entry<Object, V>> it = map.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Object, V> e = it.next();
            Object k = e.getKey();
            Object referent = weak ? ((IdentityKey.Weak) k).get() : ((IdentityKey.Strong) k).referent;
            // removed only if no one else removed it meanwhile: the gate must count each entry exactly once
            if ((referent == null || gone.test(referent, e.getValue())) && map.remove(k, e.getValue())) {
                filter.decrementAndGet(slot(k.hashCode()));
                gate.decrementAndGet();
                n++;
            }
        }
        return n;
    }

    /** Empties the map and takes its entries back out of the gate (the agent is going away). */
    public void clear() {
        for (Iterator<Map.Entry<Object, V>> it = map.entrySet().iterator(); it.hasNext(); ) {
            it.next();
            it.remove();
            gate.decrementAndGet();
        }
        for (int i = 0; i < FILTER_SLOTS; i++) {
            filter.set(i, 0);
        }
    }
}

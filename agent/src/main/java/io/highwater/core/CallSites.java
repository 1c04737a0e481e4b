package io.highwater.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The bounded set of call sites seen per signal. Past {@code max} distinct functions, new ones fold into
 * {@link CallSite#OTHER} and each fold counts as a dropped {@code call_site}.
 */
public final class CallSites {

    private final int max;
    private final Dropped dropped;
    private final AtomicInteger distinct = new AtomicInteger();
    /** By {@link Signal#index()}: a signal's sites, and its {@code other} and {@code unknown}, made at its first use. */
    private final AtomicReferenceArray<ConcurrentMap<String, CallSite>> bySignal =
            new AtomicReferenceArray<>(Signal.MAX);
    private final AtomicReferenceArray<CallSite> other = new AtomicReferenceArray<>(Signal.MAX);
    private final AtomicReferenceArray<CallSite> unknown = new AtomicReferenceArray<>(Signal.MAX);

    public CallSites(int max, Dropped dropped) {
        this.max = max;
        this.dropped = dropped;
    }

    /** The sites of {@code signal}, made with its {@code other} and {@code unknown} at its first use. */
    private ConcurrentMap<String, CallSite> sites(Signal signal) {
        int i = signal.index();
        ConcurrentMap<String, CallSite> m = bySignal.get(i);
        if (m == null) {
            other.compareAndSet(i, null, new CallSite(signal, CallSite.OTHER));
            unknown.compareAndSet(i, null, new CallSite(signal, CallSite.UNKNOWN));
            bySignal.compareAndSet(i, null, new ConcurrentHashMap<>());
            m = bySignal.get(i);
        }
        return m;
    }

    /** The interned site for {@code function} (null: no application frame), or {@code other} when full. */
    public CallSite site(Signal signal, String function) {
        ConcurrentMap<String, CallSite> m = sites(signal);
        if (function == null) {
            return unknown.get(signal.index());
        }
        CallSite site = m.get(function);
        if (site != null) {
            return site;
        }
        if (distinct.incrementAndGet() > max) {
            distinct.decrementAndGet();
            dropped.add(DropKind.CALL_SITE);
            return other.get(signal.index());
        }
        CallSite fresh = new CallSite(signal, function);
        CallSite raced = m.putIfAbsent(function, fresh);
        if (raced != null) {
            distinct.decrementAndGet();
            return raced;
        }
        return fresh;
    }

    public CallSite unknown(Signal signal) {
        sites(signal);
        return unknown.get(signal.index());
    }

    /** Every site with at least one write, for export. */
    public List<CallSite> all() {
        List<CallSite> out = new ArrayList<>();
        for (int i = 0; i < Signal.MAX; i++) {
            ConcurrentMap<String, CallSite> m = bySignal.get(i);
            if (m == null) {
                continue;
            }
            for (CallSite c : m.values()) {
                if (c.writes() > 0) {
                    out.add(c);
                }
            }
            if (other.get(i).writes() > 0) {
                out.add(other.get(i));
            }
            if (unknown.get(i).writes() > 0) {
                out.add(unknown.get(i));
            }
        }
        return out;
    }
}

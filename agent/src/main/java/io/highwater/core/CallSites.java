package io.highwater.core;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded set of call sites seen per signal. Past {@code max} distinct functions, new ones fold into
 * {@link CallSite#OTHER} and each fold counts as a dropped {@code call_site}.
 */
public final class CallSites {

    private final int max;
    private final Dropped dropped;
    private final AtomicInteger distinct = new AtomicInteger();
    private final Map<Signal, ConcurrentMap<String, CallSite>> bySignal = new EnumMap<>(Signal.class);
    private final Map<Signal, CallSite> other = new EnumMap<>(Signal.class);
    private final Map<Signal, CallSite> unknown = new EnumMap<>(Signal.class);

    public CallSites(int max, Dropped dropped) {
        this.max = max;
        this.dropped = dropped;
        for (Signal s : Signal.values()) {
            ConcurrentMap<String, CallSite> m = new ConcurrentHashMap<>();
            bySignal.put(s, m);
            other.put(s, new CallSite(s, CallSite.OTHER));
            unknown.put(s, new CallSite(s, CallSite.UNKNOWN));
        }
    }

    /** The interned site for {@code function} (null: no application frame), or {@code other} when full. */
    public CallSite site(Signal signal, String function) {
        if (function == null) {
            return unknown.get(signal);
        }
        ConcurrentMap<String, CallSite> m = bySignal.get(signal);
        CallSite site = m.get(function);
        if (site != null) {
            return site;
        }
        if (distinct.incrementAndGet() > max) {
            distinct.decrementAndGet();
            dropped.add(DropKind.CALL_SITE);
            return other.get(signal);
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
        return unknown.get(signal);
    }

    /** Every site with at least one write, for export. */
    public List<CallSite> all() {
        List<CallSite> out = new ArrayList<>();
        for (Signal s : Signal.values()) {
            for (CallSite c : bySignal.get(s).values()) {
                if (c.writes() > 0) {
                    out.add(c);
                }
            }
            if (other.get(s).writes() > 0) {
                out.add(other.get(s));
            }
            if (unknown.get(s).writes() > 0) {
                out.add(unknown.get(s));
            }
        }
        return out;
    }
}

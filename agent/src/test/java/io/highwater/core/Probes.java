package io.highwater.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Transports for unit tests: plain objects whose pending bytes and open state the test sets. */
final class Probes implements TransportProbe {

    static final Probes FIXED = new Probes();

    final Map<Object, Long> pending = new ConcurrentHashMap<>();
    final Map<Object, Boolean> open = new ConcurrentHashMap<>();
    /** The transport's own stop state (1 stopped, 0 not); absent: it cannot tell. */
    final Map<Object, Integer> stopped = new ConcurrentHashMap<>();

    @Override
    public long pendingBytes(Object transport) {
        return pending.getOrDefault(transport, 0L);
    }

    @Override
    public boolean isOpen(Object transport) {
        return open.getOrDefault(transport, true);
    }

    @Override
    public int stopState(Object transport) {
        return stopped.getOrDefault(transport, -1);
    }
}

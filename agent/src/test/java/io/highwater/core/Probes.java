package io.highwater.core;

import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Transports for unit tests: plain objects whose pending bytes and open state the test sets. */
final class Probes implements TransportProbe {

    static final Probes FIXED = new Probes();

    final Map<Object, Long> pending = new ConcurrentHashMap<>();
    final Map<Object, Boolean> open = new ConcurrentHashMap<>();
    /** The transport's own stop state (1 stopped, 0 not); absent: it cannot tell. */
    final Map<Object, Integer> stopped = new ConcurrentHashMap<>();
    final Map<Object, SocketAddress> peers = new ConcurrentHashMap<>();
    final Map<Object, SocketAddress> locals = new ConcurrentHashMap<>();
    /** The transport's connection object, for those that have one (as a Netty channel is). */
    final Map<Object, Object> connections = new ConcurrentHashMap<>();
    /** The connection-level flow-control window a stream reports (HTTP/2); absent: none. */
    final Map<Object, Long> windows = new ConcurrentHashMap<>();

    @Override
    public long pendingBytes(Object transport) {
        return pending.getOrDefault(transport, 0L);
    }

    @Override
    public boolean isOpen(Object transport) {
        return open.getOrDefault(transport, true);
    }

    @Override
    public SocketAddress peer(Object transport) {
        return peers.get(transport);
    }

    @Override
    public SocketAddress local(Object transport) {
        return locals.get(transport);
    }

    @Override
    public Object connection(Object transport) {
        return connections.get(transport);
    }

    @Override
    public int stopState(Object transport) {
        return stopped.getOrDefault(transport, -1);
    }

    @Override
    public long connectionWindow(Object transport) {
        return windows.getOrDefault(transport, -1L);
    }
}

package io.highwater.http2;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The {@code :path} of recent HTTP/2 requests, by connection and stream id, in a fixed table: a request's slot is
 * overwritten by later requests that hash to it, so the table never grows and holds no connection (only its identity
 * hash). A stream looked up after its slot was reused, or after a hash collision of two connections with the same
 * stream id, reads another request's path or none; {@code url.path} is a name for a dashboard, not an identity.
 * Writes are per request on the event loops; reads at a stream's first tracking only.
 */
final class PathTable {

    private static final int SLOTS = 8192;

    private final AtomicIntegerArray connections = new AtomicIntegerArray(SLOTS);
    private final AtomicIntegerArray streams = new AtomicIntegerArray(SLOTS);
    private final AtomicReferenceArray<CharSequence> paths = new AtomicReferenceArray<>(SLOTS);

    private static int slot(int connection, int streamId) {
        int h = connection * 31 + streamId;
        return (h ^ (h >>> 13)) & (SLOTS - 1);
    }

    void put(Object connection, int streamId, CharSequence path) {
        int c = System.identityHashCode(connection) | 1;
        int s = slot(c, streamId);
        // invalidate first, publish the key last: a reader that sees the key sees this request's path
        connections.set(s, 0);
        paths.set(s, path);
        streams.set(s, streamId);
        connections.set(s, c);
    }

    /** The path of stream {@code streamId} of {@code connection}, or null when not remembered. */
    String get(Object connection, int streamId) {
        int c = System.identityHashCode(connection) | 1;
        int s = slot(c, streamId);
        if (connections.get(s) != c || streams.get(s) != streamId) {
            return null;
        }
        CharSequence p = paths.get(s);
        return connections.get(s) == c && streams.get(s) == streamId && p != null ? p.toString() : null;
    }
}

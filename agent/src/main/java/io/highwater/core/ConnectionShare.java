package io.highwater.core;

/**
 * What one layer holds for a connection that another layer tracks: Netty's outbound buffer of the channel under a
 * Reactor queue or an HTTP/2 stream, say. Asked at collection time, for connections identified by an object of the
 * transport ({@link TransportProbe#connection}), and only for layers that do not track the connection themselves,
 * so that no byte is counted twice.
 */
public interface ConnectionShare {

    Layer layer();

    /** Bytes held for {@code connection} now; 0 when none, or when it is not a connection of this layer's kind. */
    long bytesFor(Object connection);
}

package io.highwater.it.support;

/** Names from the metric contract (DESIGN.md, "Metric contract") that the tests check. */
public final class Contract {

    private Contract() {
    }

    public static final String SCOPE = "highwater";

    public static final String IGNORED_WRITES = "backpressure.ignored.writes";
    public static final String IGNORED_BYTES = "backpressure.ignored.bytes";
    public static final String PENDING_BYTES = "backpressure.pending.bytes";
    public static final String CONNECTION_PENDING_BYTES = "backpressure.connection.pending.bytes";
    public static final String MEMORY_LIMIT = "backpressure.memory.limit";
    public static final String CONNECTIONS_BLOCKED = "backpressure.connections.blocked";
    public static final String DRAIN_WAIT = "backpressure.drain.wait";

    public static final String LAYER = "backpressure.layer";
    public static final String SIGNAL = "backpressure.signal";
    public static final String FUNCTION = "code.function.name";
    public static final String PEER_ADDRESS = "network.peer.address";
    public static final String PEER_PORT = "network.peer.port";
    public static final String SERVER_PORT = "server.port";
    public static final String MEMORY_KIND = "backpressure.memory.kind";

    public static final String NETTY = "netty";
    public static final String CHANNEL_UNWRITABLE = "channel_unwritable";
    public static final String SERVLET = "servlet";
    public static final String OUTPUT_NOT_READY = "output_not_ready";

    public static final String SERVICE_NAME = "service.name";
    public static final String SERVICE_INSTANCE_ID = "service.instance.id";
}

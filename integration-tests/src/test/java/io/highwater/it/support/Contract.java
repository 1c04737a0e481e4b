package io.highwater.it.support;

/** Names from docs/metrics.md (the metric contract and the spans) that the tests check. */
public final class Contract {

    private Contract() {
    }

    public static final String SCOPE = "highwater";

    public static final String IGNORED_WRITES = "backpressure.ignored.writes";
    public static final String IGNORED_BYTES = "backpressure.ignored.bytes";
    public static final String PENDING_BYTES = "backpressure.pending.bytes";
    public static final String PENDING_ITEMS = "backpressure.pending.items";
    public static final String CONNECTION_PENDING_BYTES = "backpressure.connection.pending.bytes";
    public static final String CONNECTION_TOTAL_PENDING_BYTES = "backpressure.connection.total_pending.bytes";
    public static final String MEMORY_LIMIT = "backpressure.memory.limit";
    public static final String KERNEL_QUEUED_BYTES = "backpressure.kernel.queued.bytes";
    public static final String DRAIN_WAIT = "backpressure.drain.wait";
    public static final String CONNECTIONS_BLOCKED = "backpressure.connections.blocked";
    public static final String DRAIN_OLDEST_WAIT = "backpressure.drain.oldest_wait";
    public static final String DRAIN_STALLS = "backpressure.drain.stalls";
    public static final String AGENT_DROPPED = "backpressure.agent.dropped";
    public static final String STREAM_PENDING_BYTES = "backpressure.stream.pending.bytes";
    public static final String HTTP2_CONNECTION_WINDOW = "backpressure.http2.connection.window";

    public static final String LAYER = "backpressure.layer";
    public static final String SIGNAL = "backpressure.signal";
    public static final String FUNCTION = "code.function.name";
    public static final String PEER_ADDRESS = "network.peer.address";
    public static final String PEER_PORT = "network.peer.port";
    public static final String SERVER_PORT = "server.port";
    public static final String MEMORY_KIND = "backpressure.memory.kind";
    public static final String DROPPED_KIND = "backpressure.dropped.kind";

    public static final String NETTY = "netty";
    public static final String CHANNEL_UNWRITABLE = "channel_unwritable";
    public static final String SERVLET = "servlet";
    public static final String OUTPUT_NOT_READY = "output_not_ready";
    public static final String SOCKET = "socket";
    public static final String SOCKET_FULL = "socket_full";
    public static final String HTTP2 = "http2";
    public static final String STREAM_WINDOW_EXHAUSTED = "stream_window_exhausted";
    public static final String CALL_NOT_READY = "call_not_ready";
    public static final String URL_PATH = "url.path";
    public static final String RPC_SYSTEM = "rpc.system";
    public static final String RPC_SERVICE = "rpc.service";
    public static final String RPC_METHOD = "rpc.method";
    public static final String HTTP2_SPAN = "backpressure http2";
    public static final String VERTX = "vertx";
    public static final String WRITE_QUEUE_FULL = "write_queue_full";
    public static final String REACTOR = "reactor";
    public static final String DEMAND_EXHAUSTED = "demand_exhausted";
    public static final String WEBSOCKET = "websocket";
    public static final String SEND_PENDING = "send_pending";

    /** Span name of a Netty episode, and the span attributes of docs/metrics.md's "Spans". */
    public static final String NETTY_SPAN = "backpressure netty";
    public static final String SPAN_PEAK_BYTES = "backpressure.pending.peak_bytes";
    public static final String SPAN_START_BYTES = "backpressure.pending.start_bytes";
    public static final String SPAN_IGNORED_WRITES = "backpressure.ignored.writes";
    public static final String SPAN_IGNORED_BYTES = "backpressure.ignored.bytes";
    public static final String SPAN_WAIT_SECONDS = "backpressure.drain.wait_seconds";
    public static final String SPAN_STALLED = "backpressure.stalled";
    public static final String SPAN_PENDING_BYTES = "backpressure.pending.bytes";
    public static final String SPAN_WAITS = "backpressure.drain.waits";
    public static final String SPAN_FOUND_AT_ATTACH = "backpressure.found_at_attach";
    /** On a span event: how many moments of its kind the episode had. */
    public static final String EVENT_COUNT = "backpressure.event.count";

    public static final String SERVICE_NAME = "service.name";
    public static final String SERVICE_INSTANCE_ID = "service.instance.id";
}

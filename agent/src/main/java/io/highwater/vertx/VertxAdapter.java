package io.highwater.vertx;

import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Monitor;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import io.highwater.vertx.bootstrap.VertxHooks;

import java.net.SocketAddress;

/**
 * Translates what the Vert.x advice sees into the model. Every method runs on a slow path only.
 *
 * <p>Vert.x 5: each connection (and each HTTP/2 stream) has an outbound queue of its own in front of Netty, and an
 * application that ignores {@code writeQueueFull()} piles its messages up there, on the heap, while Netty holds one
 * high-water mark. The queue is the tracked transport: its stop signal is the write that turned it full, its go
 * signal the drain below its low-water mark (just before the application's drain handler runs), its pending bytes
 * what its messages hold, its connection the Netty channel, so that Netty's share of the same connection adds up
 * beside it. A write while full, with the queue beyond tolerance (more than {@code (1 + tolerance)} high-water marks
 * of messages), is an ignored write, {@code write_queue_full}.
 *
 * <p>Vert.x 4.5 has no queue: {@code writeQueueFull()} is the channel's writability and the backlog is Netty's. The
 * application's call is judged where it enters Vert.x ({@code ConnectionBase.writeToChannel}), against Netty's
 * pending bytes and mark; the vertx entry holds no bytes of its own (its connection's Netty share is shown beside
 * it) and no waits (they are Netty's).
 *
 * <p>Either way, the Netty layer leaves the writes Vert.x forwards through its {@code VertxHandler} to this layer (a
 * claimed handler): the application's call was judged here, once.
 */
final class VertxAdapter implements VertxHooks {

    private final Monitor monitor;
    private final ConnectionRegistry registry;
    private final VertxAccess access;
    private final Tracker queues;
    private final Tracker connections;

    VertxAdapter(Monitor monitor, VertxAccess access) {
        this.monitor = monitor;
        this.registry = monitor.registry();
        this.access = access;
        this.queues = monitor.tracker(VertxIntegration.LAYER, new QueueProbe());
        this.connections = monitor.tracker(VertxIntegration.LAYER, new ConnectionProbe());
    }

    @Override
    public void writeWhileFull(Object queue, Object message) {
        long size = access.messageSize(message);
        TrackedConnection c = queues.track(queue, false, 0);
        if (c != null && !c.isWaiting()) {
            // full, yet no stop signal seen (the agent attached late, or lost a race): the wait starts now
            monitor.stop(c, Math.max(0, access.pendingBytes(queue)));
        }
        // headers and end markers add no bytes: not an ignored write
        if (size <= 0 || !monitor.beyondTolerance(access.messages(queue), access.highWaterMark(queue))) {
            return;
        }
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, VertxIntegration.WRITE_QUEUE_FULL, size);
    }

    @Override
    public void queueFull(Object queue) {
        TrackedConnection c = queues.track(queue, true);
        if (c != null) {
            monitor.stop(c, Math.max(0, c.pendingBytes()));
            monitor.captureTrace(c);
        }
    }

    @Override
    public void queueDrained(Object queue) {
        if (!registry.isEmpty()) {
            TrackedConnection c = queues.get(queue);
            if (c != null) {
                monitor.go(c);
            }
        }
    }

    @Override
    public void queueClosed(Object queue) {
        if (!registry.isEmpty()) {
            TrackedConnection c = queues.get(queue);
            if (c != null) {
                monitor.closed(c, Math.max(0, access.pendingBytes(queue)));
            }
        }
    }

    @Override
    public void writeWhileUnwritable(Object connection, Object message) {
        Object channel = access.channelOfConnection(connection);
        long size = access.size(message);
        if (channel == null || size <= 0) {
            return;
        }
        long pending = access.channels().pendingBytes(channel);
        if (pending < 0 || !monitor.beyondTolerance(pending, access.channels().highWaterMark(channel))) {
            return;
        }
        TrackedConnection c = connections.track(connection, false, 0);
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, VertxIntegration.WRITE_QUEUE_FULL, size);
    }

    /** A Vert.x 5 queue: its own bytes, its own stop state, its connection's channel. */
    private final class QueueProbe implements TransportProbe {
        @Override
        public long pendingBytes(Object queue) {
            return access.pendingBytes(queue);
        }

        @Override
        public boolean isOpen(Object queue) {
            return access.channels().isOpen(access.channelOfQueue(queue));
        }

        @Override
        public SocketAddress peer(Object queue) {
            return access.channels().remote(access.channelOfQueue(queue));
        }

        @Override
        public SocketAddress local(Object queue) {
            return access.channels().local(access.channelOfQueue(queue));
        }

        @Override
        public int stopState(Object queue) {
            return access.stopState(queue);
        }

        @Override
        public Object connection(Object queue) {
            return access.channelOfQueue(queue);
        }
    }

    /** A Vert.x 4.5 connection: no bytes of its own (they are its channel's, Netty's share), no stop state. */
    private final class ConnectionProbe implements TransportProbe {
        @Override
        public long pendingBytes(Object connection) {
            return 0;
        }

        @Override
        public boolean isOpen(Object connection) {
            return access.channels().isOpen(access.channelOfConnection(connection));
        }

        @Override
        public SocketAddress peer(Object connection) {
            return access.channels().remote(access.channelOfConnection(connection));
        }

        @Override
        public SocketAddress local(Object connection) {
            return access.channels().local(access.channelOfConnection(connection));
        }

        @Override
        public Object connection(Object connection) {
            return access.channelOfConnection(connection);
        }
    }
}

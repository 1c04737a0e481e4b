package io.highwater.bench;

import io.highwater.core.CallSites;
import io.highwater.core.Clock;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.Snapshot;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What one metric collection costs the agent with many slow connections: {@code Snapshot.take}, which the
 * telemetry's batch callback (and the console summary) runs once per export — it reads every tracked
 * connection's pending bytes from Netty's own accounting, sums them per layer, counts the blocked ones, finds the
 * oldest wait and keeps the top N — and {@code Monitor.tick}, the agent's episode timer (stalls, closed and
 * calm connections), which runs every few hundred milliseconds.
 *
 * <p>The agent's own classes, called directly (from its plain jar; see bench/pom.xml), including its Netty probe
 * ({@code io.highwater.netty.NettyAccess}, the method handles it reads pending bytes with). The transports are
 * the {@code ChannelOutboundBuffer}s of real (embedded) channels, each unwritable, each with a different number
 * of unflushed bytes pending, each in a running wait: what the agent holds for connections under pressure.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class SnapshotCost {

    private static final Layer NETTY = Layer.define("netty");

    @Param({"1000", "10000"})
    public int connections;

    /** highwater.connections.top (default 10). */
    @Param({"10"})
    public int topN;

    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private ConnectionRegistry registry;
    private Monitor monitor;
    private Tracker tracker;

    @Setup
    public void setUp() throws ReflectiveOperationException {
        TransportProbe probe = nettyProbe();
        Dropped dropped = new Dropped();
        registry = new ConnectionRegistry(connections, dropped);
        monitor = new Monitor(registry, new CallSites(200, dropped), dropped,
                new StackInspector(Collections.emptyList()), new RateLimiter(100, Clock.SYSTEM), 1.0,
                Clock.SYSTEM, Duration.ofSeconds(30).toNanos());
        tracker = monitor.tracker(NETTY, probe);
        for (int i = 0; i < connections; i++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1024, 2048));
            // pending bytes differ per connection, so the top N really is a selection
            ch.write(Unpooled.wrappedBuffer(new byte[2048 + (i * 7919) % 65536]));
            ChannelOutboundBuffer buffer = ch.unsafe().outboundBuffer();
            if (ch.isWritable()) {
                throw new IllegalStateException("the connection should be under pressure");
            }
            long pending = buffer.totalPendingWriteBytes();
            TrackedConnection c = tracker.track(buffer, true, pending);
            if (c == null) {
                throw new IllegalStateException("registry refused connection " + i);
            }
            monitor.stop(c, pending);
            channels.add(ch);
        }
        Snapshot s = Snapshot.take(monitor, topN, System.nanoTime());
        if (s.trackedConnections(NETTY) != connections || s.blocked(NETTY) != connections
                || s.top().size() != Math.min(topN, connections) || s.pendingBytes(NETTY) <= 0) {
            throw new IllegalStateException("unexpected snapshot: " + s.trackedConnections(NETTY) + " tracked, "
                    + s.blocked(NETTY) + " blocked, top " + s.top().size());
        }
    }

    @TearDown
    public void tearDown() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        channels.clear();
    }

    /** Once per export: pending bytes of every tracked connection, per-layer totals, blocked count, top N. */
    @Benchmark
    public Snapshot snapshot() {
        return Snapshot.take(monitor, topN, System.nanoTime());
    }

    /** The agent's timer, every min(1 s, stall threshold / 4): stalls, closed and calm connections. */
    @Benchmark
    public int tick() {
        monitor.tick();
        return registry.size();
    }

    /** The agent's probe of Netty's accounting, as the agent builds it (package-private in the agent). */
    static TransportProbe nettyProbe() throws ReflectiveOperationException {
        java.lang.reflect.Constructor<?> c = Class.forName("io.highwater.netty.NettyAccess").getDeclaredConstructor();
        c.setAccessible(true);
        return (TransportProbe) c.newInstance();
    }
}

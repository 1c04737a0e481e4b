package io.highwater.core;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/** One connection held in several layers: counted once per layer, ranked by what it holds in all of them. */
class SnapshotTest {

    private static final Layer QUEUE = Layer.define("test_queue");

    private final Dropped dropped = new Dropped();
    private final Probes probes = new Probes();
    private final ConnectionRegistry registry = new ConnectionRegistry(100, dropped);
    /** A lower layer's bytes per connection object, as Netty's outbound buffer of a channel. */
    private final Map<Object, Long> netty = new ConcurrentHashMap<>();
    private final ConnectionShare nettyShare = new ConnectionShare() {
        @Override
        public Layer layer() {
            return TestLayers.NETTY;
        }

        @Override
        public long bytesFor(Object connection) {
            return netty.getOrDefault(connection, 0L);
        }
    };

    private TrackedConnection track(Object transport, Layer layer, long pending, Object connection, int peerPort) {
        probes.pending.put(transport, pending);
        if (connection != null) {
            probes.connections.put(transport, connection);
        }
        return registry.register(transport, layer, probes, new InetSocketAddress("127.0.0.1", peerPort),
                new InetSocketAddress("127.0.0.1", 8080), true, 0, pending);
    }

    @Test
    void aConnectionHeldAboveTheTransportIsRankedByAllItsLayersAndNoByteIsCountedTwice() {
        Object channelA = new Object();
        Object channelB = new Object();
        // A: 5 MB in the queue above, 60 KB in the channel below, which no layer tracks itself
        Object queueA = new Object();
        track(queueA, QUEUE, 5_000_000, channelA, 40001);
        netty.put(channelA, 60_000L);
        // B: tracked by both layers; the share must not be added on top of the tracked entry
        Object queueB = new Object();
        Object bufferB = new Object();
        track(queueB, QUEUE, 1_000_000, channelB, 40002);
        track(bufferB, TestLayers.NETTY, 4_500_000, channelB, 40002);
        netty.put(channelB, 4_500_000L);
        // C: one layer only, by its addresses
        track(new Object(), TestLayers.NETTY, 5_200_000, null, 40003);

        Snapshot s = Snapshot.take(registry, Collections.singletonList(nettyShare), 2, 0);

        assertThat(s.pendingBytes(QUEUE)).isEqualTo(6_000_000L);
        assertThat(s.pendingBytes(TestLayers.NETTY)).isEqualTo(60_000L + 4_500_000L + 5_200_000L);
        assertThat(s.trackedConnections(TestLayers.NETTY)).isEqualTo(2);
        assertThat(s.top()).extracting(e -> e.pendingBytes).containsExactly(5_500_000L, 5_200_000L);
        Snapshot.Entry b = s.top().get(0);
        assertThat(b.connection.peerPort()).isEqualTo(40002);
        assertThat(b.shares).extracting(x -> x.layer, x -> x.pendingBytes).containsExactly(
                org.assertj.core.groups.Tuple.tuple(TestLayers.NETTY, 4_500_000L),
                org.assertj.core.groups.Tuple.tuple(QUEUE, 1_000_000L));

        Snapshot all = Snapshot.take(registry, Collections.singletonList(nettyShare), 10, 0);
        assertThat(all.top()).extracting(e -> e.pendingBytes).containsExactly(5_500_000L, 5_200_000L, 5_060_000L);
        assertThat(all.top().get(2).shares).extracting(x -> x.layer).containsExactly(QUEUE, TestLayers.NETTY);
    }

    /**
     * Streams of one connection (HTTP/2 streams, gRPC calls): summed into their connection beside the channel's own
     * buffer, and ranked among themselves by what each holds; entries that are not streams are not on that list.
     */
    @Test
    void streamsAddUpToTheirConnectionAndTheLargestAreRankedOnTheirOwn() {
        Object channel = new Object();
        netty.put(channel, 50_000L);
        track(new Object(), QUEUE, 3_000_000, channel, 40011).stream(StreamName.rpc("shop.Export/Rows"));
        track(new Object(), QUEUE, 1_000_000, channel, 40011).stream(StreamName.path("/events/42?x=1"));
        track(new Object(), QUEUE, 2_000, channel, 40011).stream(StreamName.rpc("shop.Export/Ping"));
        track(new Object(), TestLayers.NETTY, 9_000_000, null, 40012);

        Snapshot s = Snapshot.take(registry, Collections.singletonList(nettyShare), 2, 0);

        assertThat(s.top()).extracting(e -> e.pendingBytes).containsExactly(9_000_000L, 4_052_000L);
        assertThat(s.topStreams()).extracting(e -> e.pendingBytes).containsExactly(3_000_000L, 1_000_000L);
        assertThat(s.topStreams()).extracting(e -> e.stream.stream().toString())
                .containsExactly("shop.Export/Rows", "/events/{id}");
    }

    /**
     * Every tracked entry of a connection keeps the connection's shares at the highest total a collection saw, for its
     * episode's span: a framework queue's entry and the channel's entry both, with the other layer's share (read
     * from the share provider when only one layer tracks it) beside their own; a later, lower total changes nothing.
     */
    @Test
    void eachEntryKeepsItsConnectionsSharesAtTheHighestTotal() {
        Object channel = new Object();
        Object queue = new Object();
        TrackedConnection q = track(queue, QUEUE, 5_000_000, channel, 40001);
        netty.put(channel, 60_000L);
        Snapshot.take(registry, Collections.singletonList(nettyShare), 10, 0);
        assertThat(q.peakTotal()).isEqualTo(5_060_000L);
        assertThat(q.peakShares()[QUEUE.index()]).isEqualTo(5_000_000L);
        assertThat(q.peakShares()[TestLayers.NETTY.index()]).isEqualTo(60_000L);

        Object buffer = new Object();
        TrackedConnection n = track(buffer, TestLayers.NETTY, 70_000, channel, 40001);
        probes.pending.put(queue, 7_000_000L);
        Snapshot.take(registry, Collections.singletonList(nettyShare), 10, 0);
        assertThat(q.peakTotal()).isEqualTo(7_070_000L);
        assertThat(n.peakTotal()).isEqualTo(7_070_000L);
        assertThat(n.peakShares()[QUEUE.index()]).isEqualTo(7_000_000L);
        assertThat(n.peakShares()[TestLayers.NETTY.index()]).isEqualTo(70_000L);

        probes.pending.put(queue, 1_000L);
        Snapshot.take(registry, Collections.singletonList(nettyShare), 10, 0);
        assertThat(q.peakTotal()).as("a lower total later").isEqualTo(7_070_000L);
        assertThat(q.peakShares()[QUEUE.index()]).isEqualTo(7_000_000L);
    }

    @Test
    void entriesOfOneLayerWithTheSameAddressesAreOneConnection() {
        // Tomcat tracks a blocking write by its socket and an async one by its stream: the same connection
        track(new Object(), TestLayers.SERVLET, 300, null, 40010);
        track(new Object(), TestLayers.SERVLET, 200, null, 40010);
        track(new Object(), TestLayers.SERVLET, 100, null, 40011);

        Snapshot s = Snapshot.take(registry, Collections.<ConnectionShare>emptyList(), 10, 0);

        assertThat(s.trackedConnections(TestLayers.SERVLET)).isEqualTo(3);
        assertThat(s.pendingBytes(TestLayers.SERVLET)).isEqualTo(600);
        assertThat(s.top()).extracting(e -> e.pendingBytes).containsExactly(500L, 100L);
    }

    @Test
    void aShareThatFailsCountsNothingAndBreaksNothing() {
        track(new Object(), QUEUE, 1_000, new Object(), 40020);
        ConnectionShare broken = new ConnectionShare() {
            @Override
            public Layer layer() {
                return TestLayers.NETTY;
            }

            @Override
            public long bytesFor(Object connection) {
                throw new IllegalStateException("a library changed under the agent");
            }
        };
        List<ConnectionShare> shares = Arrays.asList(broken, nettyShare);

        Snapshot s = Snapshot.take(registry, shares, 10, 0);

        assertThat(s.pendingBytes(QUEUE)).isEqualTo(1_000);
        assertThat(s.pendingBytes(TestLayers.NETTY)).isZero();
        assertThat(s.top()).hasSize(1);
    }

    /**
     * The connection-level window of a multiplexed connection (HTTP/2): the smallest its streams report (they read the
     * same window, at slightly different moments), on the connection's top-N entry; -1 for a connection without one.
     */
    @Test
    void aConnectionsWindowIsTheSmallestItsStreamsReport() {
        Object channel = new Object();
        Object first = new Object();
        Object second = new Object();
        track(first, QUEUE, 300_000, channel, 40010);
        track(second, QUEUE, 200_000, channel, 40010);
        probes.windows.put(first, 70_000L);
        probes.windows.put(second, 65_535L);
        track(new Object(), TestLayers.NETTY, 100_000, null, 40011);

        Snapshot s = Snapshot.take(registry, Collections.emptyList(), 10, 0);

        assertThat(s.top()).extracting(e -> e.connection.peerPort(), e -> e.connectionWindow).containsExactly(
                org.assertj.core.groups.Tuple.tuple(40010, 65_535L),
                org.assertj.core.groups.Tuple.tuple(40011, -1L));
    }
}

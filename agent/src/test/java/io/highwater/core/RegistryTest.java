package io.highwater.core;

import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RegistryTest {

    private final Dropped dropped = new Dropped();
    private final Probes probes = new Probes();

    @Test
    void registryIsCappedAndEachRefusedConnectionCountsOnce() {
        ConnectionRegistry r = new ConnectionRegistry(2, dropped);
        Object a = new Object();
        Object b = new Object();
        Object c = new Object();
        assertThat(r.register(a, TestLayers.NETTY, probes, null, null, true, 0, 0)).isNotNull();
        assertThat(r.register(b, TestLayers.NETTY, probes, null, null, true, 0, 0)).isNotNull();
        assertThat(r.register(c, TestLayers.NETTY, probes, null, null, true, 0, 0)).isNull();
        assertThat(r.register(c, TestLayers.NETTY, probes, null, null, false, 0, 0)).isNull();
        assertThat(dropped.get(DropKind.CONNECTION)).isEqualTo(1);
        r.remove(a);
        assertThat(r.register(c, TestLayers.NETTY, probes, null, null, true, 0, 0)).isNotNull();
        assertThat(r.size()).isEqualTo(2);
    }

    @Test
    void sameTransportIsTrackedOnceByIdentity() {
        ConnectionRegistry r = new ConnectionRegistry(10, dropped);
        Object a = new Object();
        TrackedConnection first = r.register(a, TestLayers.NETTY, probes, null, null, true, 0, 0);
        assertThat(r.register(a, TestLayers.NETTY, probes, null, null, true, 0, 0)).isSameAs(first);
        assertThat(r.get(a)).isSameAs(first);
        assertThat(r.get(new Object())).isNull();
    }

    @Test
    void closedConnectionsAreNotLive() {
        ConnectionRegistry r = new ConnectionRegistry(10, dropped);
        Object a = new Object();
        Object b = new Object();
        r.register(a, TestLayers.NETTY, probes, null, null, true, 0, 0);
        r.register(b, TestLayers.NETTY, probes, null, null, true, 0, 0);
        probes.open.put(a, false);
        assertThat(r.live()).hasSize(1);
        // they stay until the monitor's timer ends their waits and evicts them (EpisodeTest)
        assertThat(r.all()).hasSize(2);
    }

    @Test
    void theRegistryNeverKeepsAConnectionAlive() throws InterruptedException {
        ConnectionRegistry r = new ConnectionRegistry(10, dropped);
        Object transport = new Object();
        r.register(transport, TestLayers.NETTY, probes, null, null, true, 0, 0);
        WeakReference<Object> ref = new WeakReference<>(transport);
        transport = null;
        List<byte[]> pressure = new ArrayList<>();
        for (int i = 0; i < 100 && ref.get() != null; i++) {
            System.gc();
            pressure.add(new byte[1024]);
            Thread.sleep(10);
        }
        assertThat(ref.get()).isNull();
        assertThat(r.live()).isEmpty();
    }

    @Test
    void snapshotSumsPerLayerAndKeepsTheTopNLargestFirst() {
        ConnectionRegistry r = new ConnectionRegistry(100, dropped);
        List<Object> transports = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            Object t = new Object();
            transports.add(t);
            probes.pending.put(t, i * 1000L);
            r.register(t, TestLayers.NETTY, probes, new InetSocketAddress("127.0.0.1", 40000 + i),
                    new InetSocketAddress("127.0.0.1", 8080), true, 0, 0);
        }
        Object idle = new Object();
        transports.add(idle);
        r.register(idle, TestLayers.NETTY, probes, null, null, true, 0, 0);

        Snapshot s = Snapshot.take(r, Collections.<ConnectionShare>emptyList(), 3, 0);
        assertThat(s.pendingBytes(TestLayers.NETTY)).isEqualTo(210_000L);
        assertThat(s.trackedConnections(TestLayers.NETTY)).isEqualTo(21);
        assertThat(s.top()).extracting(e -> e.pendingBytes).containsExactly(20_000L, 19_000L, 18_000L);
        assertThat(s.top().get(0).connection.peerPort()).isEqualTo(40020);
        assertThat(s.top().get(0).connection.peerAddress()).isEqualTo("127.0.0.1");
        assertThat(s.top().get(0).connection.serverPort()).isEqualTo(8080);
        assertThat(Snapshot.take(r, Collections.<ConnectionShare>emptyList(), 0, 0).top()).isEmpty();
        assertThat(transports).hasSize(21);
    }
}

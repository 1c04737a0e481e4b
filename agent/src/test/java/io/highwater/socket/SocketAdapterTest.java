package io.highwater.socket;

import io.highwater.core.TestLayers;

import io.highwater.socket.bootstrap.SocketHooks;
import io.highwater.socket.bootstrap.SocketWrites;
import io.highwater.core.CallSite;
import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The socket layer's bookkeeping with a hand-driven clock and sampler: which writes become waits, from when, and
 * how they end. The advice's calls are made here as the inlined advice makes them.
 */
class SocketAdapterTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong now = new AtomicLong(5_000 * MS);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped);
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get, 30_000 * MS);
    private final List<Double> waits = new ArrayList<>();
    private SocketAdapter adapter;

    @BeforeEach
    void setUp() {
        monitor.attachDrainWaits((layer, seconds) -> {
            assertThat(layer).isEqualTo(TestLayers.SOCKET);
            waits.add(seconds);
        });
        adapter = new SocketAdapter(monitor, 10);
        SocketWrites.hooks = adapter;
        SocketWrites.active = true;
    }

    @AfterEach
    void tearDown() {
        adapter.reset();
        SocketWrites.hooks = SocketHooks.NOOP;
    }

    private void advance(long millis) {
        now.addAndGet(millis * MS);
    }

    @Test
    void aWriteShorterThanOneSamplerPeriodIsNoWait() {
        Object socket = new Object();
        adapter.sample();
        Object slot = SocketWrites.begin(socket, 100);
        assertThat(slot).isNotNull();
        advance(5);
        adapter.sample();
        SocketWrites.end(slot, false);
        adapter.sample();
        assertThat(registry.get(socket)).isNull();
        assertThat(waits).isEmpty();
    }

    @Test
    void aWriteRunningSinceBeforeThePreviousTickIsAWaitFromThatTickWithItsBytesPending() {
        Object socket = new Object();
        adapter.sample();
        advance(3);
        Object slot = SocketWrites.begin(socket, 100);
        advance(7);
        adapter.sample(); // the write began before this tick: it has run for some part of a period, maybe little
        assertThat(registry.get(socket)).isNull();
        advance(10);
        adapter.sample(); // ...and it is still running a whole period later: blocked since the previous tick
        TrackedConnection c = registry.get(socket);
        assertThat(c).isNotNull();
        assertThat(c.layer()).isEqualTo(TestLayers.SOCKET);
        assertThat(c.isWaiting()).isTrue();
        assertThat(adapter.pendingBytes(socket)).isEqualTo(100);

        advance(40);
        SocketWrites.end(slot, false);
        assertThat(c.isWaiting()).isFalse();
        assertThat(adapter.pendingBytes(socket)).isZero();
        assertThat(waits).containsExactly(0.050);
    }

    @Test
    void aParkForPollOutIsAWaitAtOnce() {
        Object socket = new Object();
        SocketWrites.pollOut = 4;
        Object slot = SocketWrites.begin(socket, 64);
        SocketWrites.parking(socket, 1); // POLLIN: a read's wait, not this write's
        assertThat(registry.get(socket)).isNull();
        SocketWrites.parking(new Object(), 4); // another socket's connect, on this thread
        assertThat(registry.get(socket)).isNull();
        SocketWrites.parking(socket, 4);
        assertThat(registry.get(socket).isWaiting()).isTrue();
        advance(12);
        SocketWrites.end(slot, false);
        assertThat(waits).containsExactly(0.012);
    }

    @Test
    void aWaitWhoseEndWentUnreportedIsEndedByTheNextSample() {
        Object socket = new Object();
        adapter.sample();
        Object slot = SocketWrites.begin(socket, 100);
        adapter.sample();
        advance(10);
        adapter.sample();
        assertThat(registry.get(socket).isWaiting()).isTrue();
        // the write ends just as the sampler reports it: its end does not reach the adapter
        SocketWrites.hooks = SocketHooks.NOOP;
        SocketWrites.end(slot, false);
        SocketWrites.hooks = adapter;
        assertThat(registry.get(socket).isWaiting()).isTrue();
        advance(10);
        adapter.sample();
        assertThat(registry.get(socket).isWaiting()).isFalse();
        assertThat(waits).containsExactly(0.020);
    }

    @Test
    void aWaitingWriteThatThrowsEndsTheEpisodeWithItsBytesUndelivered() {
        List<String> errors = new ArrayList<>();
        List<Long> pendingAtEnd = new ArrayList<>();
        monitor.attachEpisodes((connection, endNanos, pending, error) -> {
            errors.add(error);
            pendingAtEnd.add(pending);
        });
        Object socket = new Object();
        SocketWrites.pollOut = 4;
        Object slot = SocketWrites.begin(socket, 300);
        SocketWrites.parking(socket, 4);
        advance(7);
        SocketWrites.end(slot, true); // the peer reset the connection
        assertThat(registry.get(socket)).as("a cut-off connection leaves the registry").isNull();
        assertThat(waits).containsExactly(0.007);
        assertThat(pendingAtEnd).containsExactly(300L);
        assertThat(errors).singleElement().asString().contains("300 bytes still pending");
    }

    @Test
    void aSlotHeldByAnotherWriteIsNotShared() {
        Object first = new Object();
        Object slot = SocketWrites.begin(first, 1);
        assertThat(SocketWrites.begin(new Object(), 1)).as("same thread, same slot, still held").isNull();
        SocketWrites.end(slot, false);
        Object again = SocketWrites.begin(new Object(), 1);
        assertThat(again).isNotNull();
        SocketWrites.end(again, false);
    }

    @Test
    void aNonBlockingRetryBeforeTheSelectorSaidWritableIsAnIgnoredSignal() {
        Object channel = new Object();
        adapter.nonBlockingWrite(channel, 100, 0);
        assertThat(registry.get(channel)).as("a full write is no wait").isNull();

        adapter.nonBlockingWrite(channel, 40, 60);
        TrackedConnection c = registry.get(channel);
        assertThat(c.isWaiting()).isTrue();
        assertThat(SocketWrites.nioWaiting.get()).isEqualTo(1);
        assertThat(adapter.pendingBytes(channel)).isEqualTo(60);
        assertThat(ignoredWrites()).isZero();

        advance(3);
        adapter.nonBlockingWrite(channel, 0, 60);
        adapter.nonBlockingWrite(channel, 0, 60);
        assertThat(ignoredWrites()).isEqualTo(2);
        assertThat(monitor.ignoredBytes(TestLayers.SOCKET_FULL)).isEqualTo(120);
        assertThat(c.isWaiting()).isTrue();

        advance(2);
        adapter.nonBlockingWrite(channel, 60, 0);
        assertThat(ignoredWrites()).isEqualTo(3);
        assertThat(c.isWaiting()).as("everything handed over: the wait is over").isFalse();
        assertThat(SocketWrites.nioWaiting.get()).isZero();
        assertThat(waits).containsExactly(0.005);
    }

    private long ignoredWrites() {
        return monitor.callSites().all().stream().mapToLong(CallSite::writes).sum();
    }
}

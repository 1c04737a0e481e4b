package io.highwater.servlet;

import io.highwater.core.TestLayers;

import io.highwater.servlet.bootstrap.ServletCalls;
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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritePendingException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class ServletAdapterTest {

    private final AtomicLong now = new AtomicLong(5_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped);
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get,
            30_000_000_000L);
    private final List<Double> waits = new ArrayList<>();
    private ServletAdapter adapter;

    @BeforeEach
    void setUp() {
        ServletCalls.notReadyStreams.set(0);
        ServletCalls.blockedThreads.set(0);
        monitor.attachDrainWaits((layer, seconds) -> {
            assertThat(layer).isEqualTo(TestLayers.SERVLET);
            waits.add(seconds);
        });
        adapter = new ServletAdapter(monitor);
    }

    @AfterEach
    void tearDown() {
        adapter.reset();
    }

    private long ignoredWrites() {
        return monitor.callSites().all().stream().mapToLong(CallSite::writes).sum();
    }

    @Test
    void writesBetweenNotReadyAndReadyAreIgnoredAndTheNotReadyPeriodIsAWait() {
        Object stream = new Object();
        Object other = new Object();
        adapter.writeWhileNotReady(stream, 10);
        assertThat(ignoredWrites()).isZero();

        adapter.notReady(stream);
        adapter.notReady(stream);
        assertThat(ServletCalls.notReadyStreams.get()).isEqualTo(1);
        TrackedConnection c = registry.get(stream);
        assertThat(c.isWaiting()).isTrue();

        adapter.writeWhileNotReady(stream, 100);
        adapter.writeWhileNotReady(other, 7);
        assertThat(ignoredWrites()).isEqualTo(1);
        assertThat(monitor.ignoredBytes(TestLayers.OUTPUT_NOT_READY)).isEqualTo(100);

        now.addAndGet(2_000_000_000L);
        adapter.ready(stream);
        assertThat(ServletCalls.notReadyStreams.get()).isZero();
        assertThat(c.isWaiting()).isFalse();
        assertThat(waits).containsExactly(2.0);

        adapter.writeWhileNotReady(stream, 100);
        assertThat(ignoredWrites()).isEqualTo(1);
    }

    @Test
    void manyNotReadyStreamsAreJudgedOneByOneAndAllLeave() {
        List<Object> streams = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            streams.add(new Object());
        }
        streams.forEach(adapter::notReady);
        assertThat(ServletCalls.notReadyStreams.get()).isEqualTo(5_000);
        // more streams than the filter has slots: every slot is taken, the map decides
        adapter.writeWhileNotReady(new Object(), 10);
        assertThat(ignoredWrites()).isZero();
        adapter.writeWhileNotReady(streams.get(4_321), 10);
        assertThat(ignoredWrites()).isEqualTo(1);

        streams.subList(0, 2_500).forEach(adapter::ready);
        streams.subList(2_500, 5_000).forEach(adapter::recycled);
        assertThat(ServletCalls.notReadyStreams.get()).isZero();
        streams.forEach(s -> adapter.writeWhileNotReady(s, 10));
        assertThat(ignoredWrites()).isEqualTo(1);
    }

    @Test
    void aRecycledStreamStopsCountingAsNotReady() {
        Object stream = new Object();
        adapter.notReady(stream);
        adapter.recycled(stream);
        assertThat(ServletCalls.notReadyStreams.get()).isZero();
        assertThat(registry.get(stream)).isNull();
        adapter.writeWhileNotReady(stream, 5);
        assertThat(ignoredWrites()).isZero();
    }

    @Test
    void aSocketWaitIsBlockedUntilTheWriteReturns() {
        Object socket = new Object();
        adapter.socketWaitBegins(socket);
        adapter.socketWaitBegins(socket);
        assertThat(ServletCalls.blockedThreads.get()).isEqualTo(1);
        assertThat(registry.get(socket).isWaiting()).isTrue();
        now.addAndGet(500_000_000L);
        adapter.socketWriteReturned(socket, false);
        assertThat(ServletCalls.blockedThreads.get()).isZero();
        assertThat(registry.get(socket).isWaiting()).isFalse();
        assertThat(waits).containsExactly(0.5);
    }

    @Test
    void blockingWritesCountFromOneMillisecondAndTheTimerShowsTheOnesStillRunning() {
        Object stream = new Object();
        long t = adapter.blockingWriteBegins(stream, 1000);
        now.addAndGet(999_999L);
        adapter.blockingWriteEnds(stream, t, false);
        assertThat(waits).isEmpty();

        t = adapter.blockingWriteBegins(stream, 1000);
        now.addAndGet(3_000_000L);
        adapter.blockingWriteEnds(stream, t, false);
        assertThat(waits).containsExactly(0.003);
        assertThat(registry.get(stream)).as("a short wait is not tracked").isNull();

        t = adapter.blockingWriteBegins(stream, 4096);
        adapter.tick();
        assertThat(registry.get(stream)).as("not yet a wait").isNull();
        now.addAndGet(2_000_000L);
        adapter.tick();
        TrackedConnection c = registry.get(stream);
        assertThat(c.isWaiting()).isTrue();
        assertThat(c.waitStartNanos()).isEqualTo(t);
        assertThat(c.pendingBytes()).isEqualTo(4096);
        now.addAndGet(1_000_000_000L);
        adapter.blockingWriteEnds(stream, t, false);
        assertThat(c.isWaiting()).isFalse();
        assertThat(waits).containsExactly(0.003, 1.002);
    }

    @Test
    void aRefusedWriteIsIgnoredOnlyWhenTheContainerSaidNotReadyAndTheWriteWasNotJudgedAlready() {
        Object stream = new Object();
        adapter.writeRefused(stream, 10, new IOException("client gone"));
        assertThat(ignoredWrites()).as("a write that failed").isZero();
        assertThat(registry.get(stream)).isNull();

        adapter.writeRefused(stream, 10, new IllegalStateException("not ready"));
        adapter.writeRefused(stream, 20, new WritePendingException());
        assertThat(ignoredWrites()).isEqualTo(2);
        assertThat(monitor.ignoredBytes(TestLayers.OUTPUT_NOT_READY)).isEqualTo(30);
        TrackedConnection c = registry.get(stream);
        assertThat(c.isWaiting()).as("a refusal is no stop signal: no go signal will end it").isFalse();

        assertThat(adapter.writeWhileNotReady(stream, 5)).as("not judged: isReady() never said false").isFalse();
        adapter.notReady(stream);
        assertThat(adapter.writeWhileNotReady(stream, 5)).as("judged").isTrue();
        assertThat(ignoredWrites()).isEqualTo(3);
    }

    @Test
    void theRestOfAnArrayPassedDownInSlicesIsWhatTheCurrentSliceHasNotHandedOver() {
        Object outputBuffer = new Object();
        byte[] array = new byte[100_000];
        adapter.arrayWriteBegins(outputBuffer, array, 1_000, 91_000);
        assertThat(adapter.arrayWriters()).containsExactly(outputBuffer);
        assertThat(adapter.arrayRest(outputBuffer)).as("nothing passed down yet").isZero();

        ByteBuffer first = ByteBuffer.wrap(array, 1_000, 8_192);
        adapter.arraySlice(outputBuffer, first);
        assertThat(adapter.arrayRest(outputBuffer)).isEqualTo(90_000);
        first.position(first.position() + 3_000);
        assertThat(adapter.arrayRest(outputBuffer)).isEqualTo(87_000);
        adapter.arraySlice(outputBuffer, ByteBuffer.wrap(new byte[8_192]));
        assertThat(adapter.arrayRest(outputBuffer)).as("a slice of another array").isEqualTo(87_000);
        adapter.arraySlice(outputBuffer, ByteBuffer.wrap(array, 83_000, 8_000));
        assertThat(adapter.arrayRest(outputBuffer)).isEqualTo(8_000);

        adapter.arrayWriteEnds(outputBuffer);
        assertThat(adapter.arrayRest(outputBuffer)).isZero();
        assertThat(adapter.arrayWriters()).isEmpty();
    }

    @Test
    void aSlicedAsyncWriteIsKnownUntilItsStreamIsRecycled() {
        Object stream = new Object();
        Object write = new Object();
        assertThat(adapter.slicedWriteOf(stream)).isNull();
        adapter.slicedAsyncWrite(stream, write);
        assertThat(adapter.slicedWriteOf(stream)).isSameAs(write);
        Object next = new Object();
        adapter.slicedAsyncWrite(stream, next);
        assertThat(adapter.slicedWriteOf(stream)).isSameAs(next);
        adapter.recycled(stream);
        assertThat(adapter.slicedWriteOf(stream)).isNull();
    }
}

package io.highwater.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/** The episode state machine: stop, go, progress and close in every order, stalls, and calm eviction. */
class EpisodeTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long STALL = 30 * SECOND;

    private final AtomicLong now = new AtomicLong(SECOND);
    private final AtomicLong clockReads = new AtomicLong();
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(100, dropped, now::get);
    private final Probes probes = new Probes();
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(10, now::get), 1.0, () -> {
                clockReads.incrementAndGet();
                return now.get();
            }, STALL);
    private final List<Double> waits = new ArrayList<>();

    EpisodeTest() {
        monitor.attachDrainWaits((layer, seconds) -> waits.add(seconds));
    }

    private TrackedConnection track(Object transport) {
        return monitor.track(transport, TestLayers.NETTY, probes, true, 0);
    }

    private Snapshot snapshot() {
        return Snapshot.take(registry, Collections.<ConnectionShare>emptyList(), 10, now.get());
    }

    @Test
    void stopThenGoRecordsOneWait() {
        TrackedConnection c = track(new Object());
        monitor.stop(c, 70_000);
        assertThat(snapshot().blocked(TestLayers.NETTY)).isEqualTo(1);
        now.addAndGet(2 * SECOND);
        assertThat(snapshot().oldestWaitNanos(TestLayers.NETTY)).isEqualTo(2 * SECOND);
        monitor.go(c);
        assertThat(waits).containsExactly(2.0);
        assertThat(snapshot().blocked(TestLayers.NETTY)).isZero();
        assertThat(snapshot().oldestWaitNanos(TestLayers.NETTY)).isZero();
        assertThat(c.pendingAtStart()).isZero();
        assertThat(c.peakPending()).isEqualTo(70_000);
        assertThat(c.episodeWaitNanos()).isEqualTo(2 * SECOND);
    }

    @Test
    void thousandsOfStopGoCyclesAreSummarisedWithCountsFirstAndLastAndThePeak() {
        TrackedConnection c = track(new Object());
        long start = now.get();
        for (int i = 0; i < 10_000; i++) {
            monitor.stop(c, 70_000 + (i == 4_000 ? 500_000 : 0));
            now.addAndGet(2_000_000);
            monitor.go(c);
            now.addAndGet(1_000_000);
        }
        assertThat(c.eventCount(TrackedConnection.EVENT_STOP)).isEqualTo(10_000);
        assertThat(c.eventCount(TrackedConnection.EVENT_GO)).isEqualTo(10_000);
        assertThat(c.eventCount(TrackedConnection.EVENT_STALL)).isZero();
        assertThat(c.firstEventNanos(TrackedConnection.EVENT_STOP)).isEqualTo(start);
        assertThat(c.lastEventNanos(TrackedConnection.EVENT_STOP)).isEqualTo(start + 9_999 * 3_000_000L);
        assertThat(c.firstEventNanos(TrackedConnection.EVENT_GO)).isEqualTo(start + 2_000_000L);
        assertThat(c.lastEventNanos(TrackedConnection.EVENT_GO)).isEqualTo(start + 9_999 * 3_000_000L + 2_000_000L);
        assertThat(c.peakPending()).isEqualTo(570_000);
        assertThat(c.peakAtNanos()).isEqualTo(start + 4_000 * 3_000_000L);
        assertThat(c.waits()).isEqualTo(10_000);
    }

    @Test
    void aConnectionTheTransportHoldsStoppedIsBlockedAtTheNextTickThoughItsSignalWasMissed() {
        Object transport = new Object();
        TrackedConnection c = track(transport);
        probes.stopped.put(transport, 1);
        assertThat(snapshot().blocked(TestLayers.NETTY)).as("no stop signal seen yet").isZero();
        monitor.tick();
        assertThat(c.isWaiting()).isTrue();
        assertThat(snapshot().blocked(TestLayers.NETTY)).isEqualTo(1);
        now.addAndGet(SECOND);
        probes.stopped.put(transport, 0);
        monitor.tick();
        assertThat(c.isWaiting()).as("writable again, its go signal missed too").isFalse();
        assertThat(waits).containsExactly(1.0);
    }

    @Test
    void aTransportThatCannotTellLeavesTheSignalsAlone() {
        Object transport = new Object();
        TrackedConnection c = track(transport);
        monitor.stop(c, 1);
        monitor.tick();
        assertThat(c.isWaiting()).isTrue();
        monitor.go(c);
        monitor.tick();
        assertThat(c.isWaiting()).isFalse();
    }

    @Test
    void aConnectionFoundAtAttachWaitsFromTheAttachAndSaysSo() {
        TrackedConnection c = track(new Object());
        monitor.foundAtAttach(c, 390_000_000L);
        assertThat(c.foundAtAttach()).isTrue();
        assertThat(c.isWaiting()).isTrue();
        assertThat(c.peakPending()).isEqualTo(390_000_000L);
        now.addAndGet(3 * SECOND);
        assertThat(snapshot().oldestWaitNanos(TestLayers.NETTY)).isEqualTo(3 * SECOND);
    }

    @Test
    void whenTheAgentStopsEpisodesEndButRunningWaitsStillShowInTheFinalExport() {
        Object transport = new Object();
        probes.pending.put(transport, 300_000L);
        TrackedConnection c = track(transport);
        monitor.stop(c, 300_000);
        now.addAndGet(2 * SECOND);
        List<String> ended = new ArrayList<>();
        monitor.attachEpisodes((conn, end, pending, error) -> ended.add(
                conn.episodeWaitNanos(end) + " " + pending + " " + error));
        monitor.endAll("process shutting down");
        assertThat(ended).containsExactly(2 * SECOND + " 300000 process shutting down with 300000 bytes pending");
        // the export that follows: still holding, still blocked, its wait as old as it is
        Snapshot s = snapshot();
        assertThat(s.pendingBytes(TestLayers.NETTY)).isEqualTo(300_000);
        assertThat(s.blocked(TestLayers.NETTY)).isEqualTo(1);
        assertThat(s.oldestWaitNanos(TestLayers.NETTY)).isEqualTo(2 * SECOND);
        assertThat(waits).as("a wait cut short by the agent's end is no ended wait").isEmpty();
    }

    @Test
    void repeatedStopsDuringOneWaitDoNotRestartIt() {
        TrackedConnection c = track(new Object());
        monitor.stop(c, 1);
        now.addAndGet(SECOND);
        monitor.stop(c, 2);
        now.addAndGet(SECOND);
        monitor.go(c);
        assertThat(waits).containsExactly(2.0);
        assertThat(c.waits()).isEqualTo(1);
    }

    @Test
    void goWithoutStopRecordsNothing() {
        TrackedConnection c = track(new Object());
        monitor.go(c);
        monitor.go(c);
        assertThat(waits).isEmpty();
    }

    @Test
    void closeWhileWaitingRecordsTheWaitUntilTheCloseAndEndsTheEpisode() {
        Object transport = new Object();
        TrackedConnection c = track(transport);
        monitor.stop(c, 1);
        now.addAndGet(5 * SECOND);
        monitor.closed(c, 0);
        assertThat(waits).containsExactly(5.0);
        assertThat(registry.get(transport)).isNull();
        monitor.go(c);
        assertThat(waits).hasSize(1);
    }

    @Test
    void aConnectionThatClosedWithoutACloseSignalIsEndedByTheTimerAtItsNextTick() {
        Object transport = new Object();
        TrackedConnection c = track(transport);
        monitor.stop(c, 1);
        now.addAndGet(3 * SECOND);
        probes.open.put(transport, false);
        monitor.tick();
        assertThat(waits).as("the layer's own close signal may be under way").isEmpty();
        now.addAndGet(SECOND);
        monitor.tick();
        assertThat(waits).containsExactly(4.0);
        assertThat(registry.size()).isZero();
    }

    /** Netty reports a channel closed before it fails and closes its outbound buffer, on its own thread. */
    @Test
    void aCloseSignalRightAfterTheTimerFoundTheTransportClosedEndsTheEpisodeWithItsBytes() {
        List<String> ended = new ArrayList<>();
        monitor.attachEpisodes((connection, endNanos, pendingAtEnd, error) -> ended.add(pendingAtEnd + " " + error));
        Object transport = new Object();
        TrackedConnection c = track(transport);
        monitor.stop(c, 1);
        now.addAndGet(3 * SECOND);
        probes.open.put(transport, false);
        monitor.tick();
        monitor.closed(c, 50_000_000);
        assertThat(waits).containsExactly(3.0);
        assertThat(ended).containsExactly("50000000 connection closed with 50000000 bytes still pending");
        monitor.tick();
        assertThat(waits).as("ended once").hasSize(1);
        assertThat(registry.size()).isZero();
    }

    @Test
    void aWaitWithoutProgressStallsExactlyOnce() {
        TrackedConnection c = track(new Object());
        monitor.stop(c, 1);
        now.addAndGet(STALL - 1);
        monitor.tick();
        assertThat(monitor.stalls(TestLayers.NETTY)).isZero();
        now.addAndGet(1);
        monitor.tick();
        now.addAndGet(STALL);
        monitor.tick();
        assertThat(monitor.stalls(TestLayers.NETTY)).isEqualTo(1);
        assertThat(c.stalled()).isTrue();
        // a new wait may stall again
        monitor.go(c);
        monitor.stop(c, 1);
        now.addAndGet(STALL);
        monitor.tick();
        assertThat(monitor.stalls(TestLayers.NETTY)).isEqualTo(2);
    }

    @Test
    void progressKeepsASlowButMovingReaderFromStalling() {
        TrackedConnection c = track(new Object());
        monitor.stop(c, 1);
        for (int i = 0; i < 10; i++) {
            now.addAndGet(STALL / 2);
            monitor.progress(c);
            monitor.tick();
        }
        assertThat(monitor.stalls(TestLayers.NETTY)).isZero();
        assertThat(snapshot().blocked(TestLayers.NETTY)).isEqualTo(1);
    }

    @Test
    void aDrainReadsNoClockAndCountsAsProgressAtTheNextTick() {
        TrackedConnection c = track(new Object());
        monitor.stop(c, 1);
        long reads = clockReads.get();
        for (int i = 0; i < 1000; i++) {
            monitor.progress(c);
        }
        assertThat(clockReads.get()).isEqualTo(reads);
        // the drains happened at some time before this tick; they count as progress at it, so the stall is
        // noticed up to a tick late, never early
        now.addAndGet(STALL - 1);
        monitor.tick();
        now.addAndGet(STALL - 1);
        monitor.tick();
        assertThat(monitor.stalls(TestLayers.NETTY)).isZero();
        now.addAndGet(1);
        monitor.tick();
        assertThat(monitor.stalls(TestLayers.NETTY)).isEqualTo(1);
    }

    @Test
    void aShrinkingKernelSendQueueIsProgressToo(@TempDir Path dir)
            throws Exception {
        Path tcp = dir.resolve("tcp");
        Object transport = new Object();
        probes.peers.put(transport, new InetSocketAddress("127.0.0.1", 0xD431));
        probes.locals.put(transport, new InetSocketAddress("127.0.0.1", 0x1F90));
        TrackedConnection c = monitor.track(transport, TestLayers.NETTY, probes, true, 0);
        monitor.attachKernelQueues(new KernelSendQueues(Collections.singletonList(tcp)));
        monitor.stop(c, 1);
        String head = "  sl  local_address rem_address   st tx_queue rx_queue\n";
        IntConsumer queue = bytes -> {
            try {
                Files.writeString(tcp, head + String.format(
                        "   1: 0100007F:1F90 0100007F:D431 01 %08X:00000000 01:00000014 00000000 0 0 2 1%n", bytes));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        // the transport reports nothing, but the kernel's queue shrinks: a slow reader, not a stall
        for (int i = 0; i < 8; i++) {
            queue.accept(3_000_000 - i * 100_000);
            now.addAndGet(STALL / 2);
            monitor.tick();
        }
        assertThat(monitor.stalls(TestLayers.NETTY)).isZero();
        // the queue stops shrinking: the reader stopped, that is a stall
        now.addAndGet(STALL);
        monitor.tick();
        now.addAndGet(STALL);
        monitor.tick();
        assertThat(monitor.stalls(TestLayers.NETTY)).isEqualTo(1);
    }

    @Test
    void calmConnectionsLeaveTheRegistryAfterOneStallThreshold() {
        Object transport = new Object();
        TrackedConnection c = track(transport);
        monitor.stop(c, 1);
        monitor.go(c);
        now.addAndGet(STALL - 1);
        monitor.tick();
        assertThat(registry.get(transport)).isSameAs(c);
        now.addAndGet(1);
        monitor.tick();
        assertThat(registry.get(transport)).isNull();
    }

    @Test
    void aWaitingConnectionIsNeverEvictedForCalm() {
        Object transport = new Object();
        TrackedConnection c = track(transport);
        monitor.stop(c, 1);
        now.addAndGet(10 * STALL);
        monitor.tick();
        assertThat(registry.get(transport)).isSameAs(c);
    }

    @Test
    void waitsEndedBeforeTelemetryIsReadyAreReplayed() {
        Monitor early = new Monitor(registry, new CallSites(10, dropped), dropped,
                new StackInspector(Collections.emptyList()), new RateLimiter(10, now::get), 1.0, () -> {
                clockReads.incrementAndGet();
                return now.get();
            }, STALL);
        TrackedConnection c = early.track(new Object(), TestLayers.NETTY, probes, true, 0);
        early.stop(c, 1);
        now.addAndGet(SECOND);
        early.go(c);
        List<Double> late = new ArrayList<>();
        early.attachDrainWaits((layer, s) -> late.add(s));
        assertThat(late).containsExactly(1.0);
    }

    @Test
    void ignoredWritesAreCountedIntoTheEpisode() {
        TrackedConnection c = track(new Object());
        monitor.stop(c, 1);
        monitor.ignoredWrite(c, TestLayers.CHANNEL_UNWRITABLE, 100);
        monitor.ignoredWrite(c, TestLayers.CHANNEL_UNWRITABLE, 50);
        assertThat(c.episodeIgnoredWrites()).isEqualTo(2);
        assertThat(c.episodeIgnoredBytes()).isEqualTo(150);
    }

    @Test
    void episodesEndedBeforeTelemetryIsReadyAreHandedToItOnce() {
        Monitor early = new Monitor(registry, new CallSites(10, dropped), dropped,
                new StackInspector(Collections.emptyList()), new RateLimiter(10, now::get), 1.0, () -> {
                clockReads.incrementAndGet();
                return now.get();
            }, STALL);
        TrackedConnection c = early.track(new Object(), TestLayers.NETTY, probes, true, 0);
        early.stop(c, 5_000);
        now.addAndGet(SECOND);
        early.closed(c, 4_000);
        List<String> ended = new ArrayList<>();
        early.attachEpisodes((conn, end, pending, error) -> ended.add(
                (conn == c) + " " + (end - conn.episodeStartNanos()) + " " + pending + " " + error));
        assertThat(ended).containsExactly("true " + SECOND + " 4000 connection closed with 4000 bytes still pending");

        TrackedConnection d = early.track(new Object(), TestLayers.NETTY, probes, true, 0);
        early.closed(d, 0);
        assertThat(ended).hasSize(2);
    }

    @Test
    void theFirstSignOfBackpressureRunsTheFirstActivityActionOnce() {
        Monitor early = new Monitor(registry, new CallSites(10, dropped), dropped,
                new StackInspector(Collections.emptyList()), new RateLimiter(10, now::get), 1.0, () -> {
                clockReads.incrementAndGet();
                return now.get();
            }, STALL);
        AtomicLong runs = new AtomicLong();
        early.onFirstActivity(runs::incrementAndGet);
        assertThat(runs).hasValue(0);
        TrackedConnection c = early.track(new Object(), TestLayers.NETTY, probes, true, 0);
        early.track(new Object(), TestLayers.NETTY, probes, true, 0);
        early.stop(c, 1);
        early.waited(TestLayers.SERVLET, SECOND);
        assertThat(runs).hasValue(1);

        Monitor servletOnly = new Monitor(registry, new CallSites(10, dropped), dropped,
                new StackInspector(Collections.emptyList()), new RateLimiter(10, now::get), 1.0, () -> {
                clockReads.incrementAndGet();
                return now.get();
            }, STALL);
        AtomicLong waits = new AtomicLong();
        servletOnly.onFirstActivity(waits::incrementAndGet);
        servletOnly.waited(TestLayers.SERVLET, SECOND);
        assertThat(waits).hasValue(1);
    }
}

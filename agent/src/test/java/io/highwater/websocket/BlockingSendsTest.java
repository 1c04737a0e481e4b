package io.highwater.websocket;

import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import org.junit.jupiter.api.Test;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link BlockingSends} as Jetty's path uses it, on a fake clock: the send is named by one key (the future its
 * thread waits on) and belongs to another object's connection (the session's flusher); a promoted send holds that
 * connection stopped ({@link BlockingSends#blocks}) whatever its queue says; a send that blocks while the connection
 * is already in a wait of its own joins it instead of beginning or ending another; a failed send ends the episode
 * with the side's bytes.
 */
class BlockingSendsTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped, now::get);
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get, 1_000 * MS);
    private final List<Double> waits = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> endedWith = Collections.synchronizedList(new ArrayList<>());
    /** The side's bytes of the connection (Jetty: its session queue's). */
    private final AtomicLong queued = new AtomicLong();
    private volatile boolean failed;
    private final Tracker tracker = monitor.tracker(WebSocketIntegration.LAYER, new TransportProbe() {
        @Override
        public long pendingBytes(Object transport) {
            return queued.get();
        }

        @Override
        public boolean isOpen(Object transport) {
            return true;
        }

        @Override
        public SocketAddress peer(Object transport) {
            return null;
        }

        @Override
        public SocketAddress local(Object transport) {
            return null;
        }
    });
    private final BlockingSends sends = new BlockingSends(monitor, new BlockingSends.Side() {
        @Override
        public Tracker tracker() {
            return tracker;
        }

        @Override
        public long pending(BlockingSends.Send s) {
            return queued.get();
        }

        @Override
        public boolean failed(BlockingSends.Send s) {
            return failed;
        }
    }, 16);

    BlockingSendsTest() {
        monitor.attachDrainWaits((layer, seconds) -> waits.add(seconds));
        monitor.attachEpisodes((c, endNanos, pendingAtEnd, error) -> endedWith.add(pendingAtEnd));
    }

    @Test
    void aPromotedSendHoldsItsConnectionStoppedUntilItReturns() {
        Object flusher = new Object();
        Object future = new Object();
        long token = sends.begins(future, flusher, future);
        assertThat(sends.blocks(flusher)).as("not before the timer promoted it").isFalse();
        now.addAndGet(2 * MS);
        sends.tick();
        TrackedConnection c = registry.get(flusher);
        assertThat(c.isWaiting()).isTrue();
        assertThat(sends.blocks(flusher)).isTrue();
        now.addAndGet(500 * MS);
        sends.ends(future, token);
        assertThat(sends.blocks(flusher)).isFalse();
        assertThat(c.isWaiting()).isFalse();
        assertThat(waits).as("from the send's start to its return").containsExactly(0.502);
    }

    @Test
    void aSendIntoAConnectionAlreadyWaitingJoinsItsWait() {
        Object flusher = new Object();
        Object future = new Object();
        TrackedConnection c = tracker.track(flusher, true);
        monitor.stop(c, 100);
        long token = sends.begins(future, flusher, future);
        now.addAndGet(2 * MS);
        sends.tick();
        now.addAndGet(100 * MS);
        sends.ends(future, token);
        assertThat(c.isWaiting()).as("the queue's wait goes on: the send did not begin it").isTrue();
        assertThat(waits).as("not counted a second time").isEmpty();
        monitor.go(c);
        assertThat(waits).containsExactly(0.102);
    }

    @Test
    void aFailedSendEndsTheEpisodeWithTheSidesBytes() {
        Object flusher = new Object();
        Object future = new Object();
        queued.set(4096);
        long token = sends.begins(future, flusher, future);
        now.addAndGet(2 * MS);
        sends.tick();
        for (int i = 0; i < 5; i++) {
            now.addAndGet(250 * MS);
            sends.tick();
            monitor.tick();
        }
        assertThat(registry.get(flusher).stalled()).as("nothing drained for the stall threshold").isTrue();
        failed = true;
        sends.ends(future, token);
        assertThat(registry.get(flusher)).as("the episode ended").isNull();
        assertThat(endedWith).containsExactly(4096L);
        assertThat(sends.isEmpty()).isTrue();
    }
}

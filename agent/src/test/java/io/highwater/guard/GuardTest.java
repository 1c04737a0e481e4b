package io.highwater.guard;

import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.GuardCounts;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import io.highwater.core.TransportProbe;
import io.highwater.core.WriteGuard;
import org.junit.jupiter.api.Test;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The guard's decisions against a model with a test clock and transports whose bytes and closes the test sees. */
class GuardTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long MIB = 1 << 20;
    private static final Layer LAYER = Layer.define("netty");

    private final AtomicLong now = new AtomicLong(SECOND);
    private final Dropped dropped = new Dropped();
    private final Monitor monitor = new Monitor(new ConnectionRegistry(100, dropped, now::get),
            new CallSites(10, dropped), dropped, new StackInspector(Collections.emptyList()),
            new RateLimiter(10, now::get), 1.0, now::get, 30 * SECOND);
    private final Transports transports = new Transports();
    private final Pools pools = new Pools();

    /** Transports whose pending bytes the test sets, and that record their closes and refusals. */
    static final class Transports implements TransportProbe {
        final Map<Object, Long> pending = new HashMap<>();
        final List<Object> closed = new ArrayList<>();
        final List<String> refused = new ArrayList<>();
        boolean canClose = true;
        boolean canRefuse;
        boolean refusesOnWritePath = true;

        @Override
        public long pendingBytes(Object t) {
            return pending.getOrDefault(t, 0L);
        }

        @Override
        public boolean isOpen(Object t) {
            return !closed.contains(t);
        }

        @Override
        public SocketAddress peer(Object t) {
            return null;
        }

        @Override
        public SocketAddress local(Object t) {
            return null;
        }

        @Override
        public boolean close(Object t) {
            if (canClose) {
                closed.add(t);
            }
            return canClose;
        }

        @Override
        public boolean refuse(Object t, String message) {
            if (canRefuse) {
                refused.add(message);
            }
            return canRefuse;
        }

        @Override
        public boolean refusesOnWritePath() {
            return refusesOnWritePath;
        }
    }

    /** Memory pools the test sets. */
    static final class Pools implements MemoryPools {
        final Map<String, long[]> usedAndMax = new HashMap<>();

        @Override
        public long used(String pool) {
            long[] u = usedAndMax.get(pool);
            return u == null ? -1 : u[0];
        }

        @Override
        public long max(String pool) {
            long[] u = usedAndMax.get(pool);
            return u == null ? -1 : u[1];
        }
    }

    private Guard guard(boolean enforce, boolean fail, long max, double reserve) {
        Guard g = new Guard(monitor, pools, enforce, fail, max, max + "B", Duration.ofSeconds(5), "5s", reserve);
        monitor.attachGuard(g, g.counts());
        return g;
    }

    private TrackedConnection connection(Object transport, long pending) {
        transports.pending.put(transport, pending);
        TrackedConnection c = monitor.tracker(LAYER, transports).track(transport, true, pending);
        monitor.stop(c, pending);
        return c;
    }

    private long count(Guard g, int reason, boolean enforced, boolean fail) {
        return g.counts().get(LAYER, fail ? 1 : 0, reason, enforced);
    }

    @Test
    void theWriteBeyondTheLimitClosesOnceAndLaterOnesAreRefusedWithoutAnotherAction() {
        Guard g = guard(true, false, 32 * MIB, 0.1);
        Object t = new Object();
        TrackedConnection c = connection(t, 0);
        assertThat(g.beforeWrite(c, 32 * MIB - 100, 100)).isEqualTo(WriteGuard.PASS);
        assertThat(g.beforeWrite(c, 32 * MIB - 100, 101)).isEqualTo(WriteGuard.CLOSED);
        assertThat(g.beforeWrite(c, 32 * MIB, 64 * 1024)).isEqualTo(WriteGuard.CLOSED);
        assertThat(transports.closed).containsExactly(t);
        assertThat(count(g, Guard.LIMIT, true, false)).isEqualTo(1);
        assertThat(c.guardReason()).isEqualTo("connection_limit");
        assertThat(g.refusal(c)).contains("highwater.guard.connection.max=" + 32 * MIB + "B")
                .contains("highwater.guard.action=close");
    }

    @Test
    void observeCountsOnceAndChangesNothing() {
        Guard g = guard(false, false, MIB, 0.1);
        Object t = new Object();
        TrackedConnection c = connection(t, 0);
        assertThat(g.beforeWrite(c, 2 * MIB, 100)).isEqualTo(WriteGuard.PASS);
        assertThat(g.beforeWrite(c, 3 * MIB, 100)).isEqualTo(WriteGuard.PASS);
        assertThat(transports.closed).isEmpty();
        assertThat(count(g, Guard.LIMIT, false, false)).isEqualTo(1);
        assertThat(count(g, Guard.LIMIT, true, false)).isZero();
        assertThat(g.refuses(c)).isFalse();
    }

    @Test
    void failMarksTheConnectionAndEveryLaterWriteIsRefused() {
        Guard g = guard(true, true, MIB, 0.1);
        TrackedConnection c = connection(new Object(), 0);
        assertThat(g.beforeWrite(c, MIB, 1)).isEqualTo(WriteGuard.FAIL);
        assertThat(g.beforeWrite(c, 0, 1)).as("marked: even a small write").isEqualTo(WriteGuard.FAIL);
        assertThat(transports.closed).isEmpty();
        assertThat(count(g, Guard.LIMIT, true, true)).isEqualTo(1);
        assertThat(g.refusal(c)).startsWith("highwater guard: write refused").contains("highwater.guard.action=fail");
    }

    @Test
    void aLayerThatCannotActIsCountedAsNotEnforced() {
        transports.canClose = false;
        transports.refusesOnWritePath = false;
        Guard close = guard(true, false, MIB, 0.1);
        TrackedConnection c = connection(new Object(), 0);
        assertThat(close.beforeWrite(c, MIB, 1)).isEqualTo(WriteGuard.PASS);
        assertThat(count(close, Guard.LIMIT, false, false)).isEqualTo(1);
        assertThat(count(close, Guard.LIMIT, true, false)).isZero();

        Guard fail = guard(true, true, MIB, 0.1);
        TrackedConnection d = connection(new Object(), 0);
        assertThat(fail.beforeWrite(d, MIB, 1)).isEqualTo(WriteGuard.PASS);
        assertThat(count(fail, Guard.LIMIT, false, true)).isEqualTo(1);
    }

    @Test
    void aWaitWithoutProgressIsClosedAtTheStallAndNotBefore() {
        Guard g = guard(true, false, 64 * MIB, 0.1);
        Object t = new Object();
        TrackedConnection c = connection(t, 100_000);
        now.addAndGet(5 * SECOND - 1);
        monitor.tick();
        g.tick();
        assertThat(transports.closed).isEmpty();
        now.addAndGet(1);
        monitor.tick();
        g.tick();
        assertThat(transports.closed).containsExactly(t);
        assertThat(count(g, Guard.STALL, true, false)).isEqualTo(1);
        assertThat(c.guardReason()).isEqualTo("stall");
    }

    @Test
    void progressResetsTheStall() {
        Guard g = guard(true, false, 64 * MIB, 0.1);
        TrackedConnection c = connection(new Object(), 100_000);
        for (int i = 0; i < 10; i++) {
            now.addAndGet(SECOND);
            monitor.progress(c);
            monitor.tick();
            g.tick();
        }
        assertThat(transports.closed).isEmpty();
    }

    @Test
    void aRespectingWriterWithinTheLimitsIsLeftAlone() {
        Guard g = guard(true, false, 64 * MIB, 0.1);
        TrackedConnection c = connection(new Object(), 64 * 1024);
        for (int i = 0; i < 100; i++) {
            assertThat(g.beforeWrite(c, 64 * 1024 + i * 16 * 1024, 16 * 1024)).isEqualTo(WriteGuard.PASS);
            monitor.go(c);
            monitor.stop(c, 64 * 1024);
            now.addAndGet(SECOND / 10);
            monitor.tick();
            g.tick();
        }
        assertThat(transports.closed).isEmpty();
        assertThat(c.guardReason()).isNull();
    }

    @Test
    void memoryShortClosesTheHeaviestFirstUntilTheEstimateLeavesRoom() {
        Guard g = guard(true, false, 1024 * MIB, 0.1);
        Object heavy = new Object();
        Object middle = new Object();
        Object light = new Object();
        connection(light, 10 * MIB);
        connection(heavy, 50 * MIB);
        connection(middle, 30 * MIB);
        pools.usedAndMax.put(MemoryPools.DIRECT, new long[] {95 * MIB, 100 * MIB});
        g.tick();
        assertThat(transports.closed).as("95 - 50 leaves the 10 MiB reserve").containsExactly(heavy);

        transports.closed.clear();
        pools.usedAndMax.put(MemoryPools.DIRECT, new long[] {99 * MIB, 100 * MIB});
        transports.pending.put(heavy, 0L);
        g.tick();
        assertThat(transports.closed).as("still short: the next heaviest; the one acted on is not again")
                .containsExactly(middle);
        assertThat(count(g, Guard.MEMORY, true, false)).isEqualTo(2);
    }

    @Test
    void memoryFullOfSomethingElseIsNotTheConnectionsDoing() {
        Guard g = guard(true, false, 1024 * MIB, 0.1);
        connection(new Object(), 10 * MIB);
        pools.usedAndMax.put(MemoryPools.HEAP, new long[] {95 * MIB, 100 * MIB});
        g.tick();
        assertThat(transports.closed).as("10 MiB of 95 used is not a sizeable part").isEmpty();
    }

    @Test
    void countsAreExportedPerLayerActionReasonAndEnforcement() {
        Guard g = guard(true, false, MIB, 0.1);
        g.beforeWrite(connection(new Object(), 0), MIB, 1);
        List<String> seen = new ArrayList<>();
        g.counts().forEach((layer, action, reason, enforced, n) ->
                seen.add(layer.id() + " " + action + " " + reason + " " + enforced + " " + n));
        assertThat(seen).containsExactly("netty close connection_limit true 1");
        assertThat(GuardCounts.REASONS).containsExactly("connection_limit", "stall", "memory");
    }
}

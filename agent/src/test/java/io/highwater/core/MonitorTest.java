package io.highwater.core;

import com.example.export.ExportJob;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class MonitorTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped);

    private Monitor monitor(double tolerance, int capturesPerSecond, int maxSites) {
        return new Monitor(registry, new CallSites(maxSites, dropped), dropped,
                new StackInspector(Collections.emptyList()), new RateLimiter(capturesPerSecond, now::get), tolerance, now::get, 30_000_000_000L);
    }

    @Test
    void toleranceIsAMultipleOfTheHighWaterMark() {
        Monitor m = monitor(1.0, 10, 10);
        assertThat(m.beyondTolerance(128 * 1024, 64 * 1024)).isFalse();
        assertThat(m.beyondTolerance(128 * 1024 + 1, 64 * 1024)).isTrue();
        Monitor strict = monitor(0.0, 10, 10);
        assertThat(strict.beyondTolerance(64 * 1024, 64 * 1024)).isFalse();
        assertThat(strict.beyondTolerance(64 * 1024 + 1, 64 * 1024)).isTrue();
    }

    @Test
    void ignoredWritesNameTheApplicationFrameAndCountBytes() {
        Monitor m = monitor(1.0, 10, 10);
        TrackedConnection c = registry.register(new Object(), TestLayers.NETTY, Probes.FIXED, null, null, true, 0, 0);
        ExportJob.writeRowsIgnoringBackpressure(m, c, 3);
        CallSite site = c.lastSite();
        assertThat(site.function()).isEqualTo(ExportJob.class.getName() + ".writeRowsIgnoringBackpressure");
        assertThat(site.writes()).isEqualTo(3);
        assertThat(m.ignoredBytes(TestLayers.CHANNEL_UNWRITABLE)).isEqualTo(300);
    }

    @Test
    void whileCaptureIsRateLimitedCountsStayExactOnTheLastSite() {
        Monitor m = monitor(1.0, 1, 10);
        TrackedConnection c = registry.register(new Object(), TestLayers.NETTY, Probes.FIXED, null, null, true, 0, 0);
        // the bucket holds one second of permits; exhaust it, then every further write must reuse the last site
        ExportJob.writeRowsIgnoringBackpressure(m, c, 150);
        assertThat(m.callSites().all()).extracting(CallSite::writes).containsExactly(150L);
        assertThat(c.lastSite().function()).endsWith(".writeRowsIgnoringBackpressure");
    }

    @Test
    void writesWithoutAnApplicationFrameOrConnectionAreUnknown() {
        Monitor m = monitor(1.0, 0, 10);
        m.ignoredWrite(null, TestLayers.CHANNEL_UNWRITABLE, 10);
        assertThat(m.callSites().all()).extracting(CallSite::function).containsExactly(CallSite.UNKNOWN);
    }

    @Test
    void callSitesAreCappedAndTheOverflowIsOtherAndCountedAsDropped() {
        CallSites sites = new CallSites(2, dropped);
        assertThat(sites.site(TestLayers.CHANNEL_UNWRITABLE, "a.B.c").function()).isEqualTo("a.B.c");
        assertThat(sites.site(TestLayers.CHANNEL_UNWRITABLE, "a.B.d").function()).isEqualTo("a.B.d");
        assertThat(sites.site(TestLayers.CHANNEL_UNWRITABLE, "a.B.e").function()).isEqualTo(CallSite.OTHER);
        assertThat(sites.site(TestLayers.CHANNEL_UNWRITABLE, "a.B.c").function()).isEqualTo("a.B.c");
        assertThat(dropped.get(DropKind.CALL_SITE)).isEqualTo(1);
    }

    @Test
    void rateLimiterGrantsABurstThenOnePermitPerInterval() {
        RateLimiter r = new RateLimiter(10, now::get);
        int granted = 0;
        for (int i = 0; i < 100; i++) {
            granted += r.tryAcquire() ? 1 : 0;
        }
        assertThat(granted).isBetween(10, 11);
        assertThat(r.tryAcquire()).isFalse();
        now.addAndGet(100_000_000L);
        assertThat(r.tryAcquire()).isTrue();
        assertThat(r.tryAcquire()).isFalse();
    }
}

package io.highwater.telemetry;

import io.highwater.base.AgentTimer;
import io.highwater.core.DropKind;
import io.highwater.core.Dropped;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's metric reader on a real SDK meter provider: a collection that runs out of memory costs one export,
 * not the reader; no collection starts while the previous export is under way; the schedule survives every error.
 */
class MetricShipperTest {

    private final Dropped dropped = new Dropped();
    private final MemoryReserve reserve = new MemoryReserve(64L * 1024 * 1024);
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final ExportStatus status = new ExportStatus(dropped, reserve, System::currentTimeMillis, lines::add);
    private final ExportStatus.Target target = status.target(ExportStatus.Signal.METRICS,
            URI.create("http://collector:4318/v1/metrics"));
    private final Exporter exporter = new Exporter();
    private final AtomicInteger collections = new AtomicInteger();
    /** How many of the next collections run out of memory in the callback. */
    private final AtomicInteger failNext = new AtomicInteger();
    private AgentTimer timer;
    private SdkMeterProvider provider;

    /** A metric exporter that keeps what it gets and answers with the result a test sets. */
    static final class Exporter implements MetricExporter {
        final List<List<String>> batches = new CopyOnWriteArrayList<>();
        volatile CompletableResultCode answer = CompletableResultCode.ofSuccess();
        volatile CountDownLatch exported = new CountDownLatch(0);

        @Override
        public CompletableResultCode export(Collection<MetricData> metrics) {
            List<String> names = new ArrayList<>();
            for (MetricData m : metrics) {
                names.add(m.getName());
            }
            batches.add(names);
            exported.countDown();
            return answer;
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
            return AggregationTemporality.CUMULATIVE;
        }

        @Override
        public MemoryMode getMemoryMode() {
            return MemoryMode.REUSABLE_DATA;
        }
    }

    private MetricShipper shipper(long intervalNanos) {
        MetricShipper shipper = new MetricShipper(exporter, intervalNanos, status, target);
        provider = SdkMeterProvider.builder().registerMetricReader(shipper).build();
        provider.get("highwater").gaugeBuilder("backpressure.pending.bytes").ofLongs().buildWithCallback(m -> {
            collections.incrementAndGet();
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new OutOfMemoryError("Java heap space");
            }
            m.record(42);
        });
        return shipper;
    }

    @AfterEach
    void close() {
        if (timer != null) {
            timer.stop(1000);
        }
        if (provider != null) {
            provider.shutdown();
        }
    }

    @Test
    void aCollectionThatRunsOutOfMemoryCostsOneExportNotTheReader() {
        MetricShipper shipper = shipper(1_000_000_000L);
        reserve.take();
        failNext.set(1);

        assertThat(shipper.export().isSuccess()).isFalse();
        assertThat(exporter.batches).isEmpty();
        assertThat(dropped.get(DropKind.EXPORT)).isEqualTo(1);
        assertThat(reserve.crisis()).as("the reserve went, so that the next export finds room").isTrue();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("out of memory in the agent while exporting metrics");

        assertThat(shipper.export().isSuccess()).isTrue();
        assertThat(exporter.batches).containsExactly(List.of("backpressure.pending.bytes"));
    }

    @Test
    void noCollectionStartsWhileThePreviousExportIsUnderway() {
        MetricShipper shipper = shipper(1_000_000_000L);
        CompletableResultCode pending = new CompletableResultCode();
        exporter.answer = pending;

        shipper.export();
        assertThat(collections).hasValue(1);
        shipper.export();
        shipper.export();
        assertThat(collections).as("reusable data: a collection would overwrite what the export still reads")
                .hasValue(1);
        assertThat(exporter.batches).hasSize(1);
        assertThat(status.describe()).as("intervals without an export").contains("failed: skipped 2; dropped 0");
        status.attemptFailed(target, ExportStatus.Failure.TIMEOUT, 0, "no answer within 1s");
        shipper.export();
        assertThat(dropped.get(DropKind.EXPORT)).as("an interval without an export, the collector failing")
                .isEqualTo(1);
        assertThat(collections).hasValue(1);

        pending.fail();
        exporter.answer = CompletableResultCode.ofSuccess();
        shipper.export();
        assertThat(collections).hasValue(2);
        assertThat(exporter.batches).hasSize(2);
    }

    @Test
    void noCollectionStartsWhileTheSenderHoldsAnExportWhoseResultNeverCameBack() {
        MetricShipper shipper = shipper(1_000_000_000L);
        shipper.export();
        assertThat(collections).hasValue(1);
        // as when the exporter ran out of memory after handing the export to the sender: no result, but held
        target.held.incrementAndGet();
        shipper.export();
        assertThat(collections).as("the held export may still serialise the reused data").hasValue(1);
        target.held.decrementAndGet();
        shipper.export();
        assertThat(collections).hasValue(2);
    }

    @Test
    void theScheduleSurvivesErrors() throws InterruptedException {
        MetricShipper shipper = shipper(1_000_000L);
        failNext.set(5);
        exporter.exported = new CountDownLatch(3);
        timer = new AgentTimer("test-timer", (job, t) -> { });
        timer.start();
        shipper.start(timer);

        exporter.exported.await();
        assertThat(collections.get()).as("collections: five ran out of memory, then three exported")
                .isGreaterThanOrEqualTo(8);
        assertThat(dropped.get(DropKind.EXPORT)).isEqualTo(5);
        assertThat(lines).as("said once").hasSize(1);
    }
}

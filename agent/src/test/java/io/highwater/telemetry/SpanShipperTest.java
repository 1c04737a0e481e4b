package io.highwater.telemetry;

import io.highwater.core.DropKind;
import io.highwater.core.Dropped;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's span processor on a real SDK tracer provider: the ending thread only queues; a batch that runs out of
 * memory is kept and exported at the next run; no new batch while the previous export is under way.
 */
class SpanShipperTest {

    private final Dropped dropped = new Dropped();
    private final MemoryReserve reserve = new MemoryReserve(64L * 1024 * 1024);
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final ExportStatus status = new ExportStatus(dropped, reserve, System::currentTimeMillis, lines::add);
    private final Exporter exporter = new Exporter();
    private SdkTracerProvider provider;
    private Tracer tracer;

    /** A span exporter that keeps the names it gets, answers as a test says, and may run out of memory. */
    static final class Exporter implements SpanExporter {
        final List<List<String>> batches = new CopyOnWriteArrayList<>();
        final AtomicInteger failNext = new AtomicInteger();
        volatile CompletableResultCode answer = CompletableResultCode.ofSuccess();

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new OutOfMemoryError("Java heap space");
            }
            List<String> names = new ArrayList<>();
            for (SpanData s : spans) {
                names.add(s.getName());
            }
            batches.add(names);
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
    }

    private SpanShipper shipper(int maxQueue, int maxBatch) {
        SpanShipper shipper = new SpanShipper(exporter, status,
                status.target(ExportStatus.Signal.SPANS, URI.create("http://collector:4318/v1/traces")), dropped,
                maxQueue, maxBatch, 1_000_000_000L, 1_000_000_000L);
        provider = SdkTracerProvider.builder().addSpanProcessor(shipper).build();
        tracer = provider.get("highwater");
        return shipper;
    }

    private void end(String... names) {
        for (String n : names) {
            tracer.spanBuilder(n).startSpan().end();
        }
    }

    @AfterEach
    void close() {
        if (provider != null) {
            provider.shutdown();
        }
    }

    @Test
    void theEndingThreadOnlyQueuesAndAFullQueueCountsADroppedSpan() {
        SpanShipper shipper = shipper(2, 10);
        end("a", "b", "c");
        assertThat(exporter.batches).as("nothing exported on the ending thread").isEmpty();
        assertThat(dropped.get(DropKind.SPAN)).isEqualTo(1);
        shipper.exportBatch();
        assertThat(exporter.batches).containsExactly(List.of("a", "b"));
    }

    @Test
    void aBatchThatRanOutOfMemoryIsKeptAndExportedAtTheNextRun() {
        SpanShipper shipper = shipper(10, 10);
        end("a", "b");
        exporter.failNext.set(1);

        assertThat(shipper.exportBatch().isSuccess()).isFalse();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("out of memory in the agent while exporting spans");
        end("c");
        assertThat(shipper.exportBatch().isSuccess()).isTrue();
        assertThat(exporter.batches).as("the kept batch first, each span once").containsExactly(List.of("a", "b"));
        shipper.exportBatch();
        assertThat(exporter.batches).containsExactly(List.of("a", "b"), List.of("c"));
    }

    @Test
    void noNewBatchWhileThePreviousExportIsUnderway() {
        SpanShipper shipper = shipper(10, 10);
        CompletableResultCode pending = new CompletableResultCode();
        exporter.answer = pending;
        end("a");
        shipper.exportBatch();
        end("b");
        assertThat(shipper.exportBatch()).isSameAs(pending);
        assertThat(exporter.batches).containsExactly(List.of("a"));

        pending.succeed();
        exporter.answer = CompletableResultCode.ofSuccess();
        shipper.exportBatch();
        assertThat(exporter.batches).containsExactly(List.of("a"), List.of("b"));
    }

    @Test
    void aFlushExportsEverythingQueuedBatchByBatch() {
        SpanShipper shipper = shipper(10, 2);
        end("a", "b", "c", "d", "e");
        assertThat(shipper.forceFlush().isSuccess()).isTrue();
        assertThat(exporter.batches).containsExactly(List.of("a", "b"), List.of("c", "d"), List.of("e"));
    }
}

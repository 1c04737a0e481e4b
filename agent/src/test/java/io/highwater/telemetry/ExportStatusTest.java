package io.highwater.telemetry;

import io.highwater.core.DropKind;
import io.highwater.core.Dropped;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static io.highwater.telemetry.ExportStatus.Failure.HTTP;
import static io.highwater.telemetry.ExportStatus.Failure.REFUSED;
import static io.highwater.telemetry.ExportStatus.Failure.TIMEOUT;
import static io.highwater.telemetry.ExportStatus.Signal.METRICS;
import static io.highwater.telemetry.ExportStatus.Signal.SPANS;
import static org.assertj.core.api.Assertions.assertThat;

/** What the user learns about the agent's exports: log lines, the dropped counter and {@code status}. */
class ExportStatusTest {

    private static final URI METRICS_URI = URI.create("http://user:secret@collector:4318/v1/metrics");
    private static final URI SPANS_URI = URI.create("http://user:secret@collector:4318/v1/traces");

    private final Dropped dropped = new Dropped();
    private final MemoryReserve reserve = new MemoryReserve(64L * 1024 * 1024);
    private final AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private ExportStatus status;
    private ExportStatus.Target metrics;
    private ExportStatus.Target spans;

    @BeforeEach
    void setUp() {
        status = new ExportStatus(dropped, reserve, clock::get, lines::add);
        metrics = status.target(METRICS, METRICS_URI);
        spans = status.target(SPANS, SPANS_URI);
    }

    @Test
    void aFailingCollectorIsSaidOncePerKindAndOnceMoreWhenItRecovers() {
        for (int i = 0; i < 5; i++) {
            status.attemptFailed(metrics, TIMEOUT, 0, "no answer within 1s");
            status.exportFailed(metrics);
        }
        status.attemptFailed(metrics, REFUSED, 0, "connection refused");
        status.attemptFailed(spans, TIMEOUT, 0, "no answer within 1s");
        assertThat(lines).as("one line per kind, for both signals to the same collector").hasSize(2);
        assertThat(lines.get(0)).startsWith("[highwater] export failed to http://***@collector:4318/v1/metrics:")
                .contains("no answer within 1s").doesNotContain("secret");
        assertThat(lines.get(1)).contains("connection refused");
        assertThat(status.failing()).isTrue();

        status.succeeded(metrics);
        status.succeeded(spans);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(2)).startsWith("[highwater] export recovered: metrics reach")
                .contains("5 export(s) did not reach it");
        assertThat(status.failing()).isFalse();

        status.attemptFailed(spans, TIMEOUT, 0, "no answer within 1s");
        assertThat(lines).as("failing again is news again").hasSize(4);
        assertThat(lines.get(3)).contains("/v1/traces");
    }

    @Test
    void anAttemptThatHungOnWhileOthersGotThroughIsCountedButIsNoNews() {
        long hangingSince = clock.get();
        status.attemptFailed(metrics, TIMEOUT, 0, "no answer within 1s", hangingSince);
        clock.addAndGet(5_000);
        status.succeeded(metrics);
        assertThat(lines).hasSize(2);
        clock.addAndGet(5_000);
        // a span export that was stuck on a connection made while the collector hung
        status.attemptFailed(spans, TIMEOUT, 0, "no answer within 1s", hangingSince);
        status.exportFailed(spans);
        assertThat(lines).as("no new failure line, so no second recovery line either").hasSize(2);
        assertThat(status.failing()).isFalse();
        assertThat(status.describe()).contains("spans to http://***@collector:4318/v1/traces: last success never;"
                + " failed: timeout 1; dropped 1");
        status.attemptFailed(spans, TIMEOUT, 0, "no answer within 1s", clock.get());
        assertThat(lines).as("an attempt started after the success is news").hasSize(3);
    }

    @Test
    void eachHttpStatusIsAKindOfItsOwn() {
        status.attemptFailed(metrics, HTTP, 500, "HTTP 500 Internal Server Error");
        status.attemptFailed(metrics, HTTP, 500, "HTTP 500 Internal Server Error");
        status.attemptFailed(metrics, HTTP, 400, "HTTP 400 Bad Request");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("HTTP 500");
        assertThat(lines.get(1)).contains("HTTP 400");
    }

    @Test
    void everyExportThatDidNotReachTheCollectorCountsAsDroppedExport() {
        status.skipped(metrics);
        assertThat(dropped.get(DropKind.EXPORT)).as("a slow export, the collector not failing").isZero();
        status.attemptFailed(metrics, TIMEOUT, 0, "no answer within 1s");
        status.exportFailed(metrics);
        status.skipped(metrics);
        status.outOfMemory(spans);
        assertThat(dropped.get(DropKind.EXPORT)).isEqualTo(3);
        assertThat(status.exportsDropped()).isEqualTo(3);
        assertThat(status.describe()).contains("failed: timeout 1, skipped 2; dropped 2");
        assertThat(dropped.get(DropKind.SPAN)).as("spans are counted as exports, not one by one").isZero();
    }

    @Test
    void runningOutOfMemoryLetsTheReserveGoAndSaysSoOnceWithALineBuiltBeforehand() {
        reserve.take();
        status.outOfMemory(metrics);
        status.outOfMemory(metrics);
        status.outOfMemory(spans);
        assertThat(reserve.crisis()).isTrue();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).isSameAs(metrics.memoryLine)
                .startsWith("[highwater] export failed: the heap is full; out of memory in the agent")
                .contains("1.0 MiB memory reserve");
        status.succeeded(metrics);
        assertThat(lines.get(1)).contains("export recovered").contains("3 export(s)");
    }

    @Test
    void aHeapHoveringAtItsLimitIsSaidOnceAMinute() {
        status.outOfMemory(metrics);
        status.succeeded(metrics);
        for (int i = 0; i < 10; i++) {
            clock.addAndGet(500);
            status.outOfMemory(metrics);
            status.succeeded(metrics);
        }
        assertThat(lines).as("out of memory, recovered; then nothing for the rest of the minute").hasSize(2);
        assertThat(dropped.get(DropKind.EXPORT)).isEqualTo(11);
        clock.addAndGet(ExportStatus.MEMORY_LINE_EVERY_MILLIS);
        status.outOfMemory(metrics);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(2)).isSameAs(metrics.memoryLine);
    }

    @Test
    void aLineThatCannotBePrintedIsTriedAgainNextTime() {
        ExportStatus failingOut = new ExportStatus(dropped, reserve, clock::get, line -> {
            if (lines.isEmpty()) {
                lines.add("(lost)");
                throw new OutOfMemoryError("Java heap space");
            }
            lines.add(line);
        });
        ExportStatus.Target t = failingOut.target(METRICS, METRICS_URI);
        failingOut.attemptFailed(t, TIMEOUT, 0, "no answer");
        assertThat(reserve.crisis()).as("printing ran out of memory: the reserve went").isTrue();
        failingOut.attemptFailed(t, TIMEOUT, 0, "no answer");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).contains("no answer");
    }

    @Test
    void atShutdownFailuresAreCountedButNotSaid() {
        status.closing();
        status.attemptFailed(metrics, TIMEOUT, 0, "no answer");
        status.exportFailed(metrics);
        assertThat(lines).isEmpty();
        assertThat(dropped.get(DropKind.EXPORT)).isEqualTo(1);
    }

    @Test
    void statusShowsTheStateTheLastSuccessAndTheFailuresByKind() {
        assertThat(status.describe()).startsWith("export: no export yet, last success never, exports dropped 0");
        status.succeeded(metrics);
        assertThat(status.describe()).startsWith("export: ok, last success 2023-11-14T22:13:20Z");

        clock.addAndGet(60_000);
        status.attemptFailed(metrics, TIMEOUT, 0, "no answer within 1s");
        status.attemptFailed(metrics, TIMEOUT, 0, "no answer within 1s");
        status.exportFailed(metrics);
        status.skipped(metrics);
        status.attemptFailed(spans, HTTP, 500, "HTTP 500");
        status.exportFailed(spans);
        String s = status.describe();
        assertThat(s).startsWith("export: failing since 2023-11-14T22:14:20Z, last success 2023-11-14T22:13:20Z,"
                + " exports dropped 3");
        assertThat(s).contains("\n  metrics to http://***@collector:4318/v1/metrics: last success"
                + " 2023-11-14T22:13:20Z; failed: timeout 2, skipped 1; dropped 2; last failure 2023-11-14T22:14:20Z:"
                + " no answer within 1s");
        assertThat(s).contains("\n  spans to http://***@collector:4318/v1/traces: last success never; failed: http 1;"
                + " dropped 1");
        assertThat(s).doesNotContain("secret");
    }

    @Test
    void aSenderFindsItsRecordByEndpointOrElseByPath() {
        assertThat(status.targetFor(METRICS_URI)).isSameAs(metrics);
        assertThat(status.targetFor(SPANS_URI)).isSameAs(spans);
        ExportStatus.Target other = status.targetFor(URI.create("http://elsewhere:4318/v1/traces"));
        assertThat(other.signal).isEqualTo(SPANS);
        assertThat(status.target(SPANS, URI.create("http://elsewhere:4318/v1/traces"))).isSameAs(other);
    }

    @Test
    void collectorsFailAndRecoverEachOnTheirOwn() {
        ExportStatus.Target elsewhere = status.target(SPANS, URI.create("http://elsewhere:4318/v1/traces"));
        status.attemptFailed(elsewhere, REFUSED, 0, "connection refused");
        status.succeeded(metrics);
        assertThat(lines).as("a success elsewhere is no recovery").hasSize(1);
        assertThat(status.failing()).isTrue();
        status.attemptFailed(elsewhere, REFUSED, 0, "connection refused");
        assertThat(lines).hasSize(1);
    }
}

package io.highwater.telemetry;

import io.highwater.base.AgentTimer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.MetricReader;

import java.util.Collection;

/**
 * The agent's metric reader, in place of the SDK's {@code PeriodicMetricReader}: collects and exports every
 * export interval on the agent's timer ({@link AgentTimer}), and keeps doing so whatever a collection or an export
 * throws, {@link OutOfMemoryError} included.
 *
 * <p>Why not the SDK's reader: its thread is a {@code ScheduledExecutorService}'s, whose periodic task is cancelled
 * for good the first time it throws (the SDK's reader lets an error out when reporting one fails for lack of
 * memory), and whose worker dies when the heap is full (JDK 17); and it starts no collection while the previous
 * export has not completed, which an exporter callback that ran out of memory leaves so forever. Here a collection
 * starts only when the previous export is done (the exporter's pooled request marshalers serve one export at a
 * time), which is read from the export's result itself, not from a callback, and from the sender (an exporter that
 * failed after handing the export over returns no result); an interval
 * whose export could not start because the previous one is still under way is counted
 * ({@link ExportStatus#skipped}: a dropped export while the collector is failing); running out of memory counts a
 * dropped export too, lets the {@link MemoryReserve} go and says so once ({@link ExportStatus#outOfMemory}). The
 * first export runs as soon as the SDK is built, so everything an export needs is loaded and initialised while
 * memory is plentiful.
 */
final class MetricShipper implements MetricReader {

    /** How long the last export waits for one under way; its caller's close budget bounds it anyway. */
    private static final long FLUSH_WAIT_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    private static final long HELD_POLL_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(10);

    private final MetricExporter exporter;
    private final long intervalNanos;
    private final ExportStatus status;
    private final ExportStatus.Target target;
    private final Runnable tick = new Tick();
    private volatile CollectionRegistration registration = CollectionRegistration.noop();
    /** The export under way or last made; null before the first. Read and written under {@code this}. */
    private CompletableResultCode current;
    private AgentTimer.Job schedule;
    private volatile boolean shut;

    MetricShipper(MetricExporter exporter, long intervalNanos, ExportStatus status, ExportStatus.Target target) {
        this.exporter = exporter;
        this.intervalNanos = intervalNanos;
        this.status = status;
        this.target = target;
    }

    @Override
    public void register(CollectionRegistration registration) {
        this.registration = registration;
    }

    /** Starts exporting, now and then every interval; only once the SDK is built, so a failed build leaves none. */
    synchronized void start(AgentTimer timer) {
        if (schedule == null && !shut) {
            schedule = timer.periodic("metrics export", tick, 0, intervalNanos, true);
        }
    }

    /** The timer's task: never throws, so its schedule is never cancelled. */
    private final class Tick implements Runnable {
        @Override
        public void run() {
            try {
                export();
            } catch (Throwable t) {
                failed(t);
            }
        }
    }

    /** One collection and export, unless the previous export is still under way. Never throws. */
    CompletableResultCode export() {
        try {
            synchronized (this) {
                if (current != null && !current.isDone() || target.held.get() > 0) {
                    status.skipped(target);
                    return current == null ? CompletableResultCode.ofFailure() : current;
                }
                Collection<MetricData> data = registration.collectAllMetrics();
                if (data.isEmpty()) {
                    return CompletableResultCode.ofSuccess();
                }
                CompletableResultCode r = exporter.export(data);
                current = r;
                return r;
            }
        } catch (Throwable t) {
            failed(t);
            return CompletableResultCode.ofFailure();
        }
    }

    private void failed(Throwable t) {
        if (MemoryReserve.isOutOfMemory(t)) {
            status.outOfMemory(target);
        } else {
            // not the collector's doing and not memory: a fault; counted, described, said once per kind
            status.attemptFailed(target, ExportStatus.Failure.IO, 0, "the agent could not export: " + t);
            status.exportFailed(target);
        }
    }

    /**
     * The last export (JVM exit, detach): a collection of now, after the export under way, if any, is done. Its caller
     * waits at most the close budget; this thread may wait that long too, and then exports what it can.
     */
    @Override
    public CompletableResultCode forceFlush() {
        long deadline = System.nanoTime() + FLUSH_WAIT_NANOS;
        while (true) {
            CompletableResultCode underWay;
            synchronized (this) {
                underWay = current != null && !current.isDone() ? current : null;
            }
            long left = deadline - System.nanoTime();
            if (underWay == null && target.held.get() == 0 || left <= 0) {
                return export();
            }
            if (underWay != null) {
                underWay.join(left, java.util.concurrent.TimeUnit.NANOSECONDS);
            } else {
                // handed to the sender, whose result never came back: its count is all there is to wait on
                java.util.concurrent.locks.LockSupport.parkNanos(Math.min(left, HELD_POLL_NANOS));
            }
        }
    }

    @Override
    public CompletableResultCode shutdown() {
        synchronized (this) {
            shut = true;
            if (schedule != null) {
                schedule.cancel();
            }
        }
        return exporter.shutdown();
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
        return exporter.getAggregationTemporality(instrumentType);
    }

    @Override
    public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
        return exporter.getDefaultAggregation(instrumentType);
    }

    /**
     * Immutable collections, whatever the exporter's mode. The SDK's reusable collections keep pools of points that
     * a collection cut short by an {@link OutOfMemoryError} leaves inconsistent: in a test, a cumulative counter
     * was then exported lower than in the batch before. The exporter still pools its request marshalers (reusable
     * mode), which are reset after every export, however it ended.
     */
    @Override
    public MemoryMode getMemoryMode() {
        return MemoryMode.IMMUTABLE_DATA;
    }

    @Override
    public String toString() {
        return "MetricShipper{exporter=" + exporter + ", intervalNanos=" + intervalNanos + '}';
    }
}

package io.highwater.telemetry;

import io.highwater.base.AgentTimer;
import io.highwater.core.DropKind;
import io.highwater.core.Dropped;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;

import java.util.ArrayList;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The agent's span processor, in place of the SDK's {@code BatchSpanProcessor}: ended episode spans wait in a
 * bounded queue and are exported in batches on the agent's timer ({@link AgentTimer}), every
 * {@code otel.bsp.schedule.delay}.
 *
 * <p>Why not the SDK's processor: its worker thread lets an {@link OutOfMemoryError} out (it rethrows what it
 * considers fatal), and dies with it (on JDK 17 even while idle: its queue's wait allocates); from then on spans
 * pile up in its queue and are dropped without a word. Here the queue and the batch are allocated up front, the
 * application's thread only offers a span to the queue (a full queue drops it and counts a dropped {@code span});
 * a batch is converted and exported on the timer, and what runs out of memory there is kept and tried again at the
 * next run: the spans taken from the queue stay until their export was made. A batch is exported only when the
 * previous export is done (reusable memory); each export that did not reach the collector counts as a dropped
 * export ({@link ExportStatus}).
 */
final class SpanShipper implements SpanProcessor {

    private static final long HELD_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final SpanExporter exporter;
    private final ExportStatus status;
    private final ExportStatus.Target target;
    private final Dropped dropped;
    private final ArrayBlockingQueue<ReadableSpan> queue;
    private final int maxBatch;
    private final long delayNanos;
    private final long flushWaitNanos;
    /** Taken from the queue, not yet exported; guarded by {@code this}. */
    private final ArrayList<ReadableSpan> taken;
    /** {@link #taken} converted; handed to the exporter, kept until its export is done. */
    private final ArrayList<SpanData> batch;
    private final Runnable tick = new Tick();
    private CompletableResultCode current;
    private AgentTimer.Job schedule;
    private boolean shut;

    SpanShipper(SpanExporter exporter, ExportStatus status, ExportStatus.Target target, Dropped dropped,
                int maxQueue, int maxBatch, long delayNanos, long flushWaitNanos) {
        this.exporter = exporter;
        this.status = status;
        this.target = target;
        this.dropped = dropped;
        this.queue = new ArrayBlockingQueue<>(Math.max(1, maxQueue));
        this.maxBatch = Math.max(1, maxBatch);
        this.delayNanos = delayNanos;
        this.flushWaitNanos = flushWaitNanos;
        this.taken = new ArrayList<>(this.maxBatch);
        this.batch = new ArrayList<>(this.maxBatch);
    }

    /** Starts the periodic export; only once the whole SDK is built, so a failed build leaves no task behind. */
    synchronized void start(AgentTimer timer) {
        if (schedule == null && !shut) {
            schedule = timer.periodic("span export", tick, delayNanos, delayNanos, false);
        }
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
    }

    @Override
    public boolean isStartRequired() {
        return false;
    }

    /** On the thread that ended the episode, often the application's: offers the span, never waits. */
    @Override
    public void onEnd(ReadableSpan span) {
        if (span.getSpanContext().isSampled() && !queue.offer(span)) {
            dropped.add(DropKind.SPAN);
        }
    }

    @Override
    public boolean isEndRequired() {
        return true;
    }

    /** The timer's task: never throws, so its schedule is never cancelled. */
    private final class Tick implements Runnable {
        @Override
        public void run() {
            exportBatch();
        }
    }

    /**
     * Exports the next batch unless the previous export is still under way; returns that export (or the previous
     * one, or a done result when there was nothing to do). Never throws.
     */
    CompletableResultCode exportBatch() {
        try {
            synchronized (this) {
                if (target.held.get() > 0) {
                    return current == null ? CompletableResultCode.ofFailure() : current;
                }
                if (current != null) {
                    if (!current.isDone()) {
                        return current;
                    }
                    taken.clear();
                    batch.clear();
                    current = null;
                }
                if (taken.isEmpty()) {
                    queue.drainTo(taken, maxBatch);
                    if (taken.isEmpty()) {
                        return CompletableResultCode.ofSuccess();
                    }
                }
                // after running out of memory, the conversion resumes where it stopped
                for (int i = batch.size(); i < taken.size(); i++) {
                    batch.add(taken.get(i).toSpanData());
                }
                CompletableResultCode r = exporter.export(batch);
                current = r;
                return r;
            }
        } catch (Throwable t) {
            if (MemoryReserve.isOutOfMemory(t)) {
                status.outOfMemory(target);
            } else {
                status.attemptFailed(target, ExportStatus.Failure.IO, 0, "the agent could not export spans: " + t);
                status.exportFailed(target);
                synchronized (this) {
                    // a fault, not a lack of memory: trying the same batch again would fail again
                    taken.clear();
                    batch.clear();
                }
            }
            return CompletableResultCode.ofFailure();
        }
    }

    /** Exports what is queued, waiting for each export up to the flush wait; at shutdown and detach. */
    @Override
    public CompletableResultCode forceFlush() {
        long deadline = System.nanoTime() + flushWaitNanos;
        while (true) {
            CompletableResultCode r = exportBatch();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return r;
            }
            if (target.held.get() > 0 && r.isDone()) {
                // the sender still holds an export whose result never came back (the exporter failed after the
                // hand-over): there is nothing to wait on but the sender's count, at shutdown only
                LockSupport.parkNanos(Math.min(left, HELD_POLL_NANOS));
                continue;
            }
            r.join(left, TimeUnit.NANOSECONDS);
            synchronized (this) {
                if (!r.isDone() || queue.isEmpty() && (current == null || current.isDone())) {
                    return r;
                }
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
        forceFlush();
        return exporter.shutdown();
    }
}

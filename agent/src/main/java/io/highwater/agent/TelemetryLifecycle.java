package io.highwater.agent;

import io.highwater.base.AgentTimer;
import io.highwater.base.Log;
import io.highwater.base.Version;
import io.highwater.config.Settings;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.telemetry.ExportStatus;
import io.highwater.telemetry.MemoryLimits;
import io.highwater.telemetry.MemoryReserve;
import io.highwater.telemetry.Retry;
import io.highwater.telemetry.Telemetry;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The life of the agent's OpenTelemetry SDK: not built yet, being built, built (or failed for good), or never to be
 * built (the agent stopped first). It is built on the agent's timer {@code highwater.telemetry.delay} after start-up,
 * when the host's own start-up is likely over, or at the first sign of backpressure if that comes sooner; a build
 * that runs out of memory is tried again, after a doubling delay or at once when memory frees; at detach and JVM
 * exit, the last export gets the SDK as it is, or builds it when something was tracked and it never was.
 */
final class TelemetryLifecycle {

    private static final int NONE = 0;
    private static final int BUILDING = 1;
    private static final int DONE = 2;
    private static final int CANCELLED = 3;

    private static final String BUILD_OUT_OF_MEMORY = Log.PREFIX + "telemetry not started yet: out of memory while"
            + " building the agent's OpenTelemetry SDK (the heap is full). It tries again when memory frees; counting"
            + " goes on meanwhile, so nothing is lost (said once)";

    /** What building the SDK needs, kept until it is built. */
    static final class Build {
        final Map<String, String> otel;
        final Monitor monitor;
        final Set<Layer> layers;
        final int topN;
        final MemoryLimits limits;
        final Telemetry.SpanSettings spans;
        final long closeBudgetMillis;
        final MemoryReserve reserve;
        final ExportStatus status;
        final AgentTimer timer;

        Build(Map<String, String> otel, Monitor monitor, Set<Layer> layers, int topN, MemoryLimits limits,
              Telemetry.SpanSettings spans, long closeBudgetMillis, MemoryReserve reserve, ExportStatus status,
              AgentTimer timer) {
            this.otel = otel;
            this.monitor = monitor;
            this.layers = layers;
            this.topN = topN;
            this.limits = limits;
            this.spans = spans;
            this.closeBudgetMillis = closeBudgetMillis;
            this.reserve = reserve;
            this.status = status;
            this.timer = timer;
        }

        Telemetry build() {
            return Telemetry.start(otel, Version.get(), monitor, layers, topN, limits, spans, closeBudgetMillis,
                    status, timer);
        }
    }

    private final Object lock = new Object();
    private int state = NONE;
    private boolean closed;
    private Build build;
    private volatile Telemetry telemetry;
    private final Duration delay;
    private final long closeBudgetMillis;
    private final MemoryReserve reserve;
    /** Builds that ran out of memory are tried again: after a doubling delay, or at once when memory frees. */
    private final Retry retry = new Retry(TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(30));
    private AgentTimer.Job job;
    private volatile boolean stopped;
    private boolean outOfMemorySaid;

    TelemetryLifecycle(Build build, Duration delay) {
        this.build = build;
        this.delay = delay;
        this.closeBudgetMillis = build.closeBudgetMillis;
        this.reserve = build.reserve;
    }

    /** Arms the build on {@code timer}: after the delay, or at once ({@link #soon()}). */
    void schedule(AgentTimer timer) {
        job = timer.onDemand("telemetry start", new Runnable() {
            @Override
            public void run() {
                buildOnTimer();
            }
        });
        job.runIn(delay.toNanos());
    }

    /** The first sign of backpressure: build now rather than after the delay. Allocates nothing; any thread. */
    void soon() {
        job.runIn(0);
    }

    /** Memory freed (the reserve could be taken back): a build that ran out of memory is tried at once. */
    void memoryFreed(long nowNanos) {
        boolean again;
        synchronized (lock) {
            retry.memoryFreed(nowNanos);
            again = state == NONE && retry.failures() > 0;
        }
        if (again) {
            job.runIn(0);
        }
    }

    Telemetry telemetry() {
        return telemetry;
    }

    /** For {@code status}: where it exports, or why it does not (yet). */
    String describe() {
        Telemetry t = telemetry;
        if (t != null) {
            return t.endpoint() + " every " + t.interval();
        }
        synchronized (lock) {
            if (retry.failures() > 0 && state == NONE) {
                return "not started yet: out of memory while building the SDK (" + retry.failures()
                        + " tries); tries again when memory frees, or in "
                        + Settings.format(Duration.ofNanos(retry.delayNanos())) + " at the latest";
            }
            if (state == DONE) {
                return "not started: the SDK could not be built (see the agent's log)";
            }
        }
        return "not started yet (starts at the first stop signal, or " + Settings.format(delay) + " after start-up)";
    }

    /**
     * Builds the SDK unless it is built, being built, or no longer wanted; on the agent's timer thread. A build that
     * runs out of memory is tried again; any other failure is final and said once.
     */
    private void buildOnTimer() {
        long wait = 0;
        synchronized (lock) {
            if (state != NONE) {
                return;
            }
            if (retry.failures() > 0 && reserve.crisis()) {
                // a build while the heap is still full would only take the host's last bytes; memoryFreed() tries
                retry.postponed(System.nanoTime());
                wait = retry.delayNanos();
            } else {
                state = BUILDING;
            }
        }
        if (wait > 0) {
            job.runIn(wait);
            return;
        }
        Telemetry t = null;
        Throwable failure = null;
        try {
            t = build.build();
        } catch (Throwable e) {
            failure = e;
        }
        if (failure != null && MemoryReserve.isOutOfMemory(failure)) {
            outOfMemory();
            return;
        }
        synchronized (lock) {
            retry.succeeded();
        }
        // published before anything is said: saying it may fail, and the state must not stay "being built"
        publish(t);
        if (failure != null) {
            Log.warn("telemetry not started, nothing will be exported: " + failure);
        } else {
            Log.info("exporting metrics to " + t.exportsTo());
        }
    }

    private void outOfMemory() {
        reserve.release();
        long retryIn;
        synchronized (lock) {
            retry.failed(System.nanoTime());
            retryIn = retry.delayNanos();
            state = NONE;
            lock.notifyAll();
        }
        if (!stopped) {
            job.runIn(retryIn);
        }
        if (!outOfMemorySaid) {
            Log.line(BUILD_OUT_OF_MEMORY);
            outOfMemorySaid = true;
        }
    }

    private void publish(Telemetry t) {
        boolean late;
        synchronized (lock) {
            late = closed;
            if (!late) {
                telemetry = t;
            }
            state = DONE;
            build = null;
            lock.notifyAll();
        }
        if (late && t != null) {
            // the agent stopped while this was being built: nobody else will close it
            t.close(false);
        }
    }

    /**
     * The SDK for the final export (JVM exit or detach), or null. A build under way is waited for, up to the close
     * budget, when {@code waitForBuild}; one that never started is built here when {@code needed} (a connection was
     * tracked), and otherwise never will be. After this, a build that finishes late closes its own SDK.
     */
    Telemetry last(boolean needed, boolean waitForBuild) {
        stopped = true;
        long waitUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, closeBudgetMillis));
        boolean buildHere = false;
        Build b;
        synchronized (lock) {
            if (state == NONE) {
                if (needed) {
                    state = BUILDING;
                    buildHere = true;
                } else {
                    state = CANCELLED;
                }
            }
            while (waitForBuild && !buildHere && state == BUILDING) {
                long left = waitUntil - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!buildHere) {
                closed = true;
                return telemetry;
            }
            b = build;
        }
        Telemetry t = null;
        try {
            t = b.build();
            Log.info("exporting metrics to " + t.exportsTo());
        } catch (Throwable e) {
            Log.warn("telemetry not started, nothing will be exported: " + e);
        }
        synchronized (lock) {
            telemetry = t;
            state = DONE;
            closed = true;
            lock.notifyAll();
        }
        return t;
    }
}

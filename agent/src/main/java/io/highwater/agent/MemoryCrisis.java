package io.highwater.agent;

import io.highwater.base.AgentTimer;
import io.highwater.base.Log;
import io.highwater.telemetry.MemoryReserve;
import io.highwater.telemetry.Retry;

import java.util.concurrent.TimeUnit;

/**
 * The host's memory crisis as the agent's timer lives through it. A job that runs out of memory lets the
 * {@link MemoryReserve} go and says so once per crisis, with a line built beforehand, for there is no memory to build
 * it then, and not again within a minute (a heap hovering at its limit starts and ends crises). The episode timer
 * then tries to take the reserve back, at its next run and after doubling delays up to 30 s; once it could, a build
 * of the SDK that ran out of memory is tried at once. Any other failure of a job is said once per job.
 */
final class MemoryCrisis implements AgentTimer.Failures {

    private static final long LINE_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final String OUT_OF_MEMORY = Log.PREFIX + "out of memory on the agent's timer: the heap is full."
            + " The agent let go of its memory reserve and keeps every schedule; what it could not do now it does when"
            + " memory frees (said once per memory crisis)";

    private final MemoryReserve reserve;
    private final Retry retake = new Retry(TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(30));
    private volatile boolean said;
    private boolean everSaid;
    private long saidNanos;
    private TelemetryLifecycle telemetry;

    MemoryCrisis(MemoryReserve reserve) {
        this.reserve = reserve;
    }

    void telemetry(TelemetryLifecycle lifecycle) {
        this.telemetry = lifecycle;
    }

    /** What a job of the timer threw. Never throws, and allocates nothing when memory ran out. */
    @Override
    public void failed(AgentTimer.Job job, Throwable t) {
        if (MemoryReserve.isOutOfMemory(t)) {
            reserve.release();
            long now = System.nanoTime();
            boolean quiet = everSaid && now - saidNanos < LINE_EVERY_NANOS;
            if (!said && !quiet) {
                Log.line(OUT_OF_MEMORY);
                said = true;
                everSaid = true;
                saidNanos = now;
            }
            return;
        }
        Log.once("job:" + job.name(), job.name() + " failed: " + t);
    }

    /** On the episode timer: in a crisis, try to take the reserve back, and tell the SDK's build when it could. */
    void upkeep() {
        long now = System.nanoTime();
        if (!reserve.crisis() || retake.failures() > 0 && !retake.due(now)) {
            return;
        }
        // trying is the test: the JVM's free memory does not count garbage a collection would free
        if (reserve.retake()) {
            retake.succeeded();
            said = false;
            if (telemetry != null) {
                telemetry.memoryFreed(now);
            }
        } else {
            retake.failed(now);
        }
    }
}

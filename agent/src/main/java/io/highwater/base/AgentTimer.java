package io.highwater.base;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The agent's timer: one daemon thread that runs a few jobs, periodically or when asked, and keeps running them
 * whatever they throw and however full the heap is.
 *
 * <p>Not a {@code ScheduledThreadPoolExecutor}: a periodic task of one is cancelled for good the first time it
 * throws, and on JDK 17 its worker allocates a queue node every time it waits (a {@code Condition} wait); when the
 * heap is full that allocation fails, the worker thread dies, and the replacement needs memory too. Here the thread
 * is started with the agent, waits with {@link LockSupport#parkNanos} and wakes with {@link LockSupport#unpark},
 * neither of which allocates; the jobs are created up front and only re-armed ({@link Job#runIn}), which
 * allocates nothing either, from any thread. A job that throws is reported to the timer's {@link Failures} and runs
 * again at its next time.
 *
 * <p>Jobs run one at a time on the timer's thread, so a job needs no lock against the others.
 */
public final class AgentTimer {

    /** What a job threw; called on the timer's thread, must not throw. */
    public interface Failures {
        void failed(Job job, Throwable t);
    }

    /** Longest sleep without looking at the jobs again (a safety net: arming a job wakes the timer). */
    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Thread thread;
    private final Failures failures;
    /** Copied on write: the timer's thread reads it without a lock. */
    private volatile Job[] jobs = new Job[0];
    private volatile boolean stopped;

    public AgentTimer(String threadName, Failures failures) {
        this.failures = failures;
        this.thread = new Thread(new Loop(), threadName);
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /**
     * A job that runs every {@code periodNanos}, the first time after {@code initialDelayNanos}; at a fixed rate
     * (the next run is one period after the previous one was due, but never a burst to catch up) or with a fixed
     * delay (one period after the previous run ended).
     */
    public Job periodic(String name, Runnable task, long initialDelayNanos, long periodNanos, boolean fixedRate) {
        if (periodNanos <= 0) {
            throw new IllegalArgumentException("period must be positive: " + periodNanos);
        }
        Job j = add(new Job(this, name, task, periodNanos, fixedRate));
        j.runIn(initialDelayNanos);
        return j;
    }

    /** A job that runs only when asked ({@link Job#runIn}), once each time. */
    public Job onDemand(String name, Runnable task) {
        return add(new Job(this, name, task, 0, false));
    }

    private synchronized Job add(Job j) {
        Job[] old = jobs;
        Job[] grown = new Job[old.length + 1];
        System.arraycopy(old, 0, grown, 0, old.length);
        grown[old.length] = j;
        jobs = grown;
        return j;
    }

    /**
     * Stops the timer: no job starts any more; waits up to {@code waitMillis} for a job under way to end (not when
     * called from a job: the timer's own thread ends after that job).
     */
    public void stop(long waitMillis) {
        stopped = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread && thread.isAlive()) {
            try {
                thread.join(Math.max(1, waitMillis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public boolean stopped() {
        return stopped;
    }

    /** True on the timer's own thread. */
    public boolean isTimerThread() {
        return Thread.currentThread() == thread;
    }

    private void wake() {
        LockSupport.unpark(thread);
    }

    /** The timer's thread: its loop allocates nothing, and nothing a job throws ends it. */
    private final class Loop implements Runnable {
        @Override
        public void run() {
            while (!stopped) {
                try {
                    long wait = runDue();
                    if (wait > 0 && !stopped) {
                        LockSupport.parkNanos(AgentTimer.this, wait);
                    }
                } catch (Throwable t) {
                    // only a job's own failure report could get here; the loop goes on
                }
            }
        }
    }

    /** Runs every job that is due; returns how long to wait for the next one. */
    private long runDue() {
        long now = System.nanoTime();
        long wait = MAX_WAIT_NANOS;
        for (Job j : jobs) {
            if (stopped) {
                return 0;
            }
            if (!j.armed) {
                continue;
            }
            long due = j.dueNanos;
            if (now - due >= 0) {
                if (j.periodNanos == 0) {
                    // disarmed before it runs, so that the job (or another thread) can arm it again meanwhile
                    j.armed = false;
                } else if (j.fixedRate) {
                    long next = due + j.periodNanos;
                    j.dueNanos = next - now < 0 ? now : next;
                }
                run(j);
                now = System.nanoTime();
                if (j.periodNanos > 0 && !j.fixedRate && j.dueNanos == due) {
                    j.dueNanos = now + j.periodNanos;
                }
                due = j.dueNanos;
            }
            if (j.armed) {
                wait = Math.min(wait, due - now);
            }
        }
        return wait;
    }

    private void run(Job j) {
        try {
            j.task.run();
        } catch (Throwable t) {
            try {
                failures.failed(j, t);
            } catch (Throwable ignored) {
                // the report failed too (no memory): the job runs again at its next time all the same
            }
        }
    }

    /** One job of the timer. Arming it allocates nothing and works from any thread. */
    public static final class Job {
        private final AgentTimer timer;
        private final String name;
        private final Runnable task;
        private final long periodNanos;
        private final boolean fixedRate;
        private volatile long dueNanos;
        private volatile boolean armed;

        Job(AgentTimer timer, String name, Runnable task, long periodNanos, boolean fixedRate) {
            this.timer = timer;
            this.name = name;
            this.task = task;
            this.periodNanos = periodNanos;
            this.fixedRate = fixedRate;
        }

        /** Runs the job {@code delayNanos} from now (a periodic job: goes on from there). */
        public void runIn(long delayNanos) {
            dueNanos = System.nanoTime() + Math.max(0, delayNanos);
            armed = true;
            timer.wake();
        }

        /** The job runs no more until armed again. */
        public void cancel() {
            armed = false;
        }

        public String name() {
            return name;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}

package io.highwater.base;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's timer: its jobs keep their schedule whatever they throw; jobs run when asked, one at a time. */
class AgentTimerTest {

    private static final long MS = 1_000_000L;

    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final AgentTimer timer = new AgentTimer("test-timer", (job, t) -> failures.add(job.name() + ": " + t));

    @AfterEach
    void stop() {
        timer.stop(1000);
    }

    @Test
    void aPeriodicJobThatThrowsKeepsItsSchedule() throws InterruptedException {
        CountDownLatch runs = new CountDownLatch(5);
        timer.periodic("thrower", () -> {
            runs.countDown();
            throw new OutOfMemoryError("Java heap space");
        }, 0, MS, true);
        timer.start();
        runs.await();
        assertThat(failures).hasSizeGreaterThanOrEqualTo(4)
                .allMatch(f -> f.equals("thrower: java.lang.OutOfMemoryError: Java heap space"));
    }

    @Test
    void aFailingReportDoesNotEndTheTimer() throws InterruptedException {
        AgentTimer reportsFail = new AgentTimer("failing-reports", (job, t) -> {
            throw new OutOfMemoryError("no room for the report either");
        });
        CountDownLatch runs = new CountDownLatch(3);
        reportsFail.periodic("thrower", () -> {
            runs.countDown();
            throw new IllegalStateException("broken");
        }, 0, MS, false);
        reportsFail.start();
        try {
            runs.await();
        } finally {
            reportsFail.stop(1000);
        }
    }

    @Test
    void anOnDemandJobRunsOnceEachTimeItIsAskedFromAnyThread() throws InterruptedException {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch first = new CountDownLatch(1);
        CountDownLatch second = new CountDownLatch(1);
        AgentTimer.Job job = timer.onDemand("on demand", () -> {
            if (runs.incrementAndGet() == 1) {
                first.countDown();
            } else {
                second.countDown();
            }
        });
        timer.start();
        Thread asker = new Thread(() -> job.runIn(0));
        asker.start();
        first.await();
        job.runIn(0);
        second.await();
        assertThat(runs).hasValue(2);
    }

    @Test
    void aJobCanArmItselfAgainWithADelayOfItsChoosing() throws InterruptedException {
        CountDownLatch runs = new CountDownLatch(3);
        AgentTimer.Job[] self = new AgentTimer.Job[1];
        self[0] = timer.onDemand("self-arming", () -> {
            runs.countDown();
            self[0].runIn(runs.getCount() % 2 == 0 ? MS : 2 * MS);
        });
        self[0].runIn(0);
        timer.start();
        runs.await();
    }

    @Test
    void stopEndsTheTimersThread() throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        AgentTimer.Job job = timer.periodic("cancelled", ran::countDown, 0, MS, false);
        timer.start();
        ran.await();
        job.cancel();
        timer.stop(10_000);
        assertThat(timer.stopped()).isTrue();
        Thread t = Thread.getAllStackTraces().keySet().stream().filter(th -> th.getName().equals("test-timer"))
                .findFirst().orElse(null);
        assertThat(t).as("the timer's thread after stop").isNull();
    }
}

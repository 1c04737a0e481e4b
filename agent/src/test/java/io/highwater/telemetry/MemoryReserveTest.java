package io.highwater.telemetry;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;

class MemoryReserveTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void aSixtyFourthOfTheHeapBetweenAQuarterAndFourMib() {
        assertThat(new MemoryReserve(64 * MIB).bytes()).isEqualTo(MIB);
        assertThat(new MemoryReserve(8 * MIB).bytes()).isEqualTo(MIB / 4);
        assertThat(new MemoryReserve(16 * 1024 * MIB).bytes()).isEqualTo(4 * MIB);
    }

    @Test
    void aReleaseStartsACrisisOnceAndARetakeWithRoomEndsIt() {
        MemoryReserve r = new MemoryReserve(64 * MIB);
        assertThat(r.take()).as("taking it the first time ends no crisis").isFalse();
        assertThat(r.crisis()).isFalse();

        assertThat(r.release()).as("the first release starts a crisis").isTrue();
        assertThat(r.release()).as("a second one within the same crisis").isFalse();
        assertThat(r.crisis()).isTrue();
        assertThat(r.releases()).isEqualTo(2);

        assertThat(r.retake(4 * r.bytes() - 1)).as("room for less than four times the reserve").isFalse();
        assertThat(r.crisis()).isTrue();
        assertThat(r.retake(4 * r.bytes())).as("room for four times the reserve").isTrue();
        assertThat(r.crisis()).isFalse();
        assertThat(r.retake(Long.MAX_VALUE - 1)).as("held in full: nothing to take").isFalse();
    }

    @Test
    void aReleaseBeforeTheFirstTakeIsACrisisToo() {
        MemoryReserve r = new MemoryReserve(64 * MIB);
        assertThat(r.release()).isTrue();
        assertThat(r.retake(Long.MAX_VALUE - 1)).isTrue();
    }

    @Test
    void anOutOfMemoryErrorIsFoundAmongTheCauses() {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        assertThat(MemoryReserve.isOutOfMemory(oom)).isTrue();
        assertThat(MemoryReserve.isOutOfMemory(new ExecutionException(new IllegalStateException(oom)))).isTrue();
        assertThat(MemoryReserve.isOutOfMemory(new ExceptionInInitializerError(oom))).isTrue();
        assertThat(MemoryReserve.isOutOfMemory(new IllegalStateException("no"))).isFalse();
        assertThat(MemoryReserve.isOutOfMemory(null)).isFalse();
        Exception loop = new Exception("a cause chain that loops");
        Exception other = new Exception(loop);
        loop.initCause(other);
        assertThat(MemoryReserve.isOutOfMemory(loop)).isFalse();
    }
}

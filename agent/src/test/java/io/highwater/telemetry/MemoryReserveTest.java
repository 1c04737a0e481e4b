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
    void aReleaseStartsACrisisOnceAndATakeAgainEndsIt() {
        MemoryReserve r = new MemoryReserve(64 * MIB);
        r.take();
        assertThat(r.crisis()).isFalse();
        assertThat(r.retake()).as("no crisis to end").isFalse();

        assertThat(r.release()).as("the first release starts a crisis").isTrue();
        assertThat(r.release()).as("a second one within the same crisis").isFalse();
        assertThat(r.crisis()).isTrue();
        assertThat(r.releases()).isEqualTo(2);

        assertThat(r.retake()).as("the heap of this test has room").isTrue();
        assertThat(r.crisis()).isFalse();
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

package io.highwater.telemetry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The retry of work that ran out of memory (the SDK's build): on a clock handed in, so no test waits. */
class RetryTest {

    private static final long S = 1_000_000_000L;

    @Test
    void nothingIsDueBeforeAFailure() {
        Retry r = new Retry(S, 30 * S);
        assertThat(r.due(0)).isFalse();
        assertThat(r.due(Long.MAX_VALUE)).isFalse();
        assertThat(r.failures()).isZero();
        assertThat(r.delayNanos()).isZero();
    }

    @Test
    void theDelayDoublesWithEveryFailureInARowUpToTheMax() {
        Retry r = new Retry(S, 5 * S);
        long now = 100 * S;
        long[] expected = {S, 2 * S, 4 * S, 5 * S, 5 * S};
        for (long delay : expected) {
            r.failed(now);
            assertThat(r.delayNanos()).isEqualTo(delay);
            assertThat(r.due(now + delay - 1)).as("one nanosecond before the delay of %d ns is over", delay).isFalse();
            assertThat(r.due(now + delay)).isTrue();
            now += delay;
        }
        assertThat(r.failures()).isEqualTo(expected.length);
    }

    @Test
    void aSuccessStartsOver() {
        Retry r = new Retry(S, 30 * S);
        r.failed(0);
        r.failed(S);
        r.succeeded();
        assertThat(r.due(Long.MAX_VALUE / 2)).isFalse();
        assertThat(r.failures()).isZero();
        r.failed(10 * S);
        assertThat(r.delayNanos()).as("the first delay again").isEqualTo(S);
    }

    @Test
    void freedMemoryMakesAPendingTryDueAtOnceAndItsDelayStartsOver() {
        Retry r = new Retry(S, 30 * S);
        r.failed(0);
        r.failed(S);
        r.failed(3 * S);
        assertThat(r.due(4 * S)).as("within the third delay").isFalse();
        r.memoryFreed(4 * S);
        assertThat(r.due(4 * S)).isTrue();
        r.failed(4 * S);
        assertThat(r.delayNanos()).isEqualTo(S);
    }

    @Test
    void aPostponedTryWaitsLongerWithoutCountingAsAFailure() {
        Retry r = new Retry(S, 30 * S);
        r.postponed(0);
        assertThat(r.due(Long.MAX_VALUE / 2)).as("nothing to postpone").isFalse();
        r.failed(0);
        r.postponed(S);
        assertThat(r.failures()).isEqualTo(1);
        assertThat(r.delayNanos()).isEqualTo(2 * S);
        assertThat(r.due(3 * S - 1)).isFalse();
        assertThat(r.due(3 * S)).isTrue();
    }

    @Test
    void freedMemoryDoesNotInventATry() {
        Retry r = new Retry(S, 30 * S);
        r.memoryFreed(5 * S);
        assertThat(r.due(5 * S)).isFalse();
    }

    @Test
    void theClockMayWrap() {
        Retry r = new Retry(S, 30 * S);
        r.failed(Long.MAX_VALUE - S / 2);
        assertThat(r.due(Long.MAX_VALUE)).isFalse();
        assertThat(r.due(Long.MIN_VALUE + S / 2)).isTrue();
    }

    @Test
    void delaysMustMakeSense() {
        assertThatThrownBy(() -> new Retry(0, S)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Retry(2 * S, S)).isInstanceOf(IllegalArgumentException.class);
    }
}

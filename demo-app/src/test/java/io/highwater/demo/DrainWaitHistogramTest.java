package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Quantiles from explicit buckets, the way Prometheus's histogram_quantile estimates them. */
class DrainWaitHistogramTest {
    private static final double[] BOUNDS = {0.001, 0.01, 0.1, 1.0};

    @Test
    void interpolatesLinearlyInsideTheBucketThatHoldsTheRank() {
        // 10 waits in (1 ms, 10 ms], 20 in (10 ms, 100 ms], 10 in (100 ms, 1 s]
        DrainWaitHistogram h = new DrainWaitHistogram(BOUNDS, new long[] {0, 10, 20, 10, 0}, 40, 9.9);

        // rank 20 of 40: the 10th of 20 in (0.01, 0.1]
        assertThat(h.quantile(0.5)).isCloseTo(0.01 + 0.09 * 10 / 20, within(1e-12));
        // rank 36: the 6th of 10 in (0.1, 1]
        assertThat(h.quantile(0.9)).isCloseTo(0.1 + 0.9 * 6 / 10, within(1e-12));
        // rank 39.6
        assertThat(h.quantile(0.99)).isCloseTo(0.1 + 0.9 * 9.6 / 10, within(1e-12));
        // rank 10 is the last observation of (0.001, 0.01]: its upper bound
        assertThat(h.quantile(0.25)).isCloseTo(0.01, within(1e-12));
    }

    @Test
    void theFirstBucketStartsAtZero() {
        DrainWaitHistogram h = new DrainWaitHistogram(BOUNDS, new long[] {4, 0, 0, 0, 0}, 4, 0.002);
        assertThat(h.quantile(0.5)).isCloseTo(0.0005, within(1e-12));
    }

    @Test
    void aRankInTheInfiniteBucketAnswersTheHighestFiniteBound() {
        DrainWaitHistogram h = new DrainWaitHistogram(BOUNDS, new long[] {1, 0, 0, 0, 9}, 10, 100);
        assertThat(h.quantile(0.5)).isEqualTo(1.0);
        assertThat(h.quantile(0.99)).isEqualTo(1.0);
        assertThat(h.quantile(0.05)).isCloseTo(0.0005, within(1e-12));
    }

    @Test
    void nothingObservedIsNotANumber() {
        assertThat(new DrainWaitHistogram(BOUNDS, new long[5], 0, 0).quantile(0.5)).isNaN();
        assertThat(DrainWaitHistogram.empty().quantile(0.5)).isNaN();
        assertThat(new DrainWaitHistogram(BOUNDS, new long[] {1, 0, 0, 0, 0}, 1, 0).quantile(1.5)).isInfinite();
    }

    @Test
    void deltasAddUp() {
        DrainWaitHistogram a = new DrainWaitHistogram(BOUNDS, new long[] {1, 2, 0, 0, 0}, 3, 0.01);
        DrainWaitHistogram b = new DrainWaitHistogram(BOUNDS, new long[] {0, 0, 3, 1, 1}, 5, 9);
        DrainWaitHistogram sum = DrainWaitHistogram.empty().plus(a).plus(b);
        assertThat(sum.counts).containsExactly(1, 2, 3, 1, 1);
        assertThat(sum.count).isEqualTo(8);
        assertThat(sum.sum).isCloseTo(9.01, within(1e-12));
    }
}

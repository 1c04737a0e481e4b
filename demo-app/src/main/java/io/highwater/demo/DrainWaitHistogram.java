package io.highwater.demo;

import java.util.Arrays;

/**
 * One explicit-bucket histogram as OTLP carries it: {@code bounds} are the finite upper bounds, {@code counts} has
 * one more entry than {@code bounds}, count {@code i} covering {@code (bounds[i-1], bounds[i]]} and the last one
 * {@code (bounds[n-1], +Inf)}. Immutable.
 *
 * <p>{@link #quantile} estimates a quantile the way Prometheus's {@code histogram_quantile} does: find the bucket
 * holding the requested rank, interpolate linearly between its lower and upper bound (the first bucket starts at 0
 * when its upper bound is positive), and answer the highest finite bound when the rank falls into the +Inf bucket.
 */
final class DrainWaitHistogram {
    final double[] bounds;
    final long[] counts;
    final long count;
    final double sum;

    DrainWaitHistogram(double[] bounds, long[] counts, long count, double sum) {
        if (counts.length != bounds.length + 1) {
            throw new IllegalArgumentException("a histogram with " + bounds.length + " bounds needs "
                    + (bounds.length + 1) + " bucket counts, not " + counts.length);
        }
        this.bounds = bounds.clone();
        this.counts = counts.clone();
        this.count = count;
        this.sum = sum;
    }

    static DrainWaitHistogram empty() {
        return new DrainWaitHistogram(new double[0], new long[1], 0, 0);
    }

    /** This plus {@code other} (for delta temporality); the bounds must be the same. */
    DrainWaitHistogram plus(DrainWaitHistogram other) {
        if (count == 0 && bounds.length == 0) {
            return other;
        }
        if (!Arrays.equals(bounds, other.bounds)) {
            return other; // the bounds changed (a new agent): start over from what it says
        }
        long[] c = counts.clone();
        for (int i = 0; i < c.length; i++) {
            c[i] += other.counts[i];
        }
        return new DrainWaitHistogram(bounds, c, count + other.count, sum + other.sum);
    }

    /**
     * The {@code q}-quantile (0..1) estimated from the buckets; {@code NaN} when the histogram is empty,
     * {@code -Inf}/{@code +Inf} for {@code q} below 0 / above 1, as Prometheus answers.
     */
    double quantile(double q) {
        if (Double.isNaN(q)) {
            return Double.NaN;
        }
        if (q < 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (q > 1) {
            return Double.POSITIVE_INFINITY;
        }
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0 || bounds.length == 0) {
            return Double.NaN; // Prometheus: fewer than two buckets, or nothing observed
        }
        double rank = q * total;
        long below = 0; // observations in the buckets before b
        int b = 0;
        // like Prometheus, search the finite buckets only; falling through means the +Inf bucket
        while (b < bounds.length && below + counts[b] < rank) {
            below += counts[b];
            b++;
        }
        if (b == bounds.length) {
            return bounds[bounds.length - 1];
        }
        if (b == 0 && bounds[0] <= 0) {
            return bounds[0];
        }
        double start = b == 0 ? 0 : bounds[b - 1];
        double end = bounds[b];
        long inBucket = counts[b];
        if (inBucket == 0) {
            return start; // only for q == 0 before any observation (Prometheus divides 0 by 0 here: NaN)
        }
        return start + (end - start) * ((rank - below) / inBucket);
    }
}

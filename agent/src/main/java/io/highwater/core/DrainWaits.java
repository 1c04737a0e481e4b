package io.highwater.core;

/** Receives every ended wait: the {@code backpressure.drain.wait} histogram. */
public interface DrainWaits {

    void record(Layer layer, double seconds);
}

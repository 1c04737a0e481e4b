package io.highwater.core;

/** Monotonic time, replaceable in unit tests. */
public interface Clock {

    long nanoTime();

    Clock SYSTEM = System::nanoTime;
}

package io.highwater.core;

/** Monotonic time, replaceable in unit tests. */
public interface Clock {

    long nanoTime();

    /** A class, not a method reference: the start-up path avoids the JDK's lambda bootstrap cost. */
    Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }
    };
}

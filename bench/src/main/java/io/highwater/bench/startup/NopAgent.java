package io.highwater.bench.startup;

import java.lang.instrument.Instrumentation;

/**
 * A Java agent that does nothing: the Premain-Class of bench's plain jar
 * ({@code bench/target/highwater-bench-<version>.jar}). bench/scripts/startup.sh runs it as the "nop" variant, to
 * show what any {@code -javaagent:} costs this JVM before the agent does anything.
 */
public final class NopAgent {

    private NopAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        // nothing: the cost measured is the JVM's own (java.instrument, JVMTI, opening the jar)
    }
}

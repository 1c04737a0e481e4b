package io.highwater.bench;

/**
 * Written by the build (bench/pom.xml filters src/main/templates): where the agent jar is. A compile-time
 * constant, so that {@code @Fork(jvmArgsAppend = ...)} can name it.
 */
public final class BuildInfo {

    /** The agent jar that "with agent" forks start with; set with -Dhighwater.agent.jar when building. */
    public static final String AGENT_JAR = "${highwater.agent.jar}";

    /**
     * The agent argument every benchmark uses: no OTLP export (nothing listens), and the SDK built at once rather
     * than 5 s after start-up, where its build (a second busy thread on a 2-core machine, megabytes allocated) would
     * land in a measurement iteration; everything else default.
     */
    public static final String AGENT_ARGS = "otel.metrics.exporter=none;telemetry.delay=0";

    /** The JVM option of a "with agent" fork. */
    public static final String JAVAAGENT = "-javaagent:" + AGENT_JAR + "=" + AGENT_ARGS;

    /**
     * The agent with every setting at its default, OTLP export included (to localhost:4318, where nothing listens
     * here: one failed export every 10 s, reported once): its instruments then aggregate as in production.
     */
    public static final String JAVAAGENT_DEFAULTS = "-javaagent:" + AGENT_JAR;

    /** The Netty version the benchmarks were built against. */
    public static final String NETTY_VERSION = "${netty41.version}";

    private BuildInfo() {
    }
}

package io.highwater.bootstrap;

/**
 * The one place where instrumented application classes meet the agent. It lives on the bootstrap class
 * path so that every class loader can see it; the agent's implementation lives in the agent's own class
 * loader and is plugged in here.
 *
 * <p>This class outlives any agent instance (bootstrap classes cannot be unloaded), so its shape is a
 * contract: a later agent jar attached to the same JVM finds this version and checks {@link #ABI} before
 * it uses it.
 */
public final class Bridge {

    /** Bumped whenever a member of the bootstrap package changes shape. */
    public static final int ABI = 6;

    /** Never null: {@link NettyHooks#NOOP} when no agent is active. */
    public static volatile NettyHooks netty = NettyHooks.NOOP;

    /** Never null: {@link ServletHooks#NOOP} when no agent is active. */
    public static volatile ServletHooks servlet = ServletHooks.NOOP;

    /** Never null: {@link SocketHooks#NOOP} when no agent is active. */
    public static volatile SocketHooks socket = SocketHooks.NOOP;

    /**
     * How many servlet output streams are not ready right now ({@code isReady()} returned false and no later call
     * returned true). The servlet write advice reads this first and goes no further while it is 0: no per-write
     * look-up while no stream is not ready.
     */
    public static final java.util.concurrent.atomic.AtomicInteger servletNotReady =
            new java.util.concurrent.atomic.AtomicInteger();

    /** How many threads are waiting for a container socket inside a blocking write right now (Tomcat). */
    public static final java.util.concurrent.atomic.AtomicInteger servletBlocked =
            new java.util.concurrent.atomic.AtomicInteger();

    /** Set while an agent instance is installed; holds its version, for "already attached" checks. */
    public static volatile String activeAgent;

    /**
     * The running agent's control: {@code "status"} and {@code "detach"} return a human-readable answer. A later
     * attach of the command line's {@code status} / {@code detach} reaches the running instance through here,
     * whatever class loader that instance lives in. Null when no agent is active.
     */
    public static volatile java.util.function.Function<String, String> control;

    private Bridge() {
    }
}

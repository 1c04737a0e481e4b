package io.highwater.bootstrap;

/**
 * The agent's own part of the boot class path: which agent is active and how to reach it. It lives on the bootstrap class
 * path so that every class loader can see it; the agent's implementation lives in the agent's own class
 * loader and is plugged in here.
 *
 * <p>This class outlives any agent instance (bootstrap classes cannot be unloaded), so its shape is a
 * contract: a later agent jar attached to the same JVM finds this version and checks {@link #ABI} before
 * it uses it.
 */
public final class Bridge {

    /**
     * Bumped whenever a member of a bootstrap package changes shape: this class's, or an integration's (each keeps
     * its hooks in its own {@code bootstrap} package). A new integration's classes are new names and need no bump.
     */
    public static final int ABI = 17;

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

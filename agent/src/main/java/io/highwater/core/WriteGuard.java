package io.highwater.core;

/**
 * The guard as the integrations' slow paths see it (see {@code io.highwater.guard.Guard}): asked only where the agent
 * is called for a write anyway (a write on a connection in a stop state), and only when the guard is on
 * ({@link Monitor#guard()} is null otherwise).
 */
public interface WriteGuard {

    /** Let the write through. */
    int PASS = 0;
    /** Fail this write instead of making it ({@code highwater.guard.action=fail}): see {@link #refusal}. */
    int FAIL = 1;
    /** The connection was closed (or is closing) through its transport: let the write go and fail as it will. */
    int CLOSED = 2;

    /**
     * A write of {@code bytes} is about to be queued on {@code c}, which holds {@code pendingBefore} bytes in its
     * layer already. Thread-safe, never throws; cheap when the connection is within the limits.
     *
     * @return {@link #PASS}, {@link #FAIL} or {@link #CLOSED}
     */
    int beforeWrite(TrackedConnection c, long pendingBefore, long bytes);

    /**
     * Whether the guard marked {@code c} for {@code fail}: its next application write fails. Thread-safe, cheap.
     */
    boolean refuses(TrackedConnection c);

    /** The message of the {@code IOException} a refused write fails with: names highwater, the limit, the setting. */
    String refusal(TrackedConnection c);
}

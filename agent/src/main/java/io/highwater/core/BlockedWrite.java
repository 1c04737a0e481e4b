package io.highwater.core;

/**
 * A blocking write in progress, timed from its start. A blocking write is a wait only once it has gone on for
 * a while (most return at once): the agent's timer then promotes it, and its connection counts as blocked from the
 * write's start. Promotion and the write's end may race (timer thread, writing thread); whichever comes second
 * sees the other.
 */
public class BlockedWrite {

    private final long startNanos;
    private final long bytes;
    private boolean promoted;
    private boolean ended;

    public BlockedWrite(long startNanos, long bytes) {
        this.startNanos = startNanos;
        this.bytes = bytes;
    }

    public final long startNanos() {
        return startNanos;
    }

    public final long bytes() {
        return bytes;
    }

    /** Whether the write still runs and was not promoted yet; if so it is promoted now. */
    public final synchronized boolean promote() {
        if (ended || promoted) {
            return false;
        }
        promoted = true;
        return true;
    }

    /** The write returned: whether it had been promoted (then its connection's wait ends with it). */
    public final synchronized boolean end() {
        ended = true;
        return promoted;
    }
}

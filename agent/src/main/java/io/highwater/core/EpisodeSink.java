package io.highwater.core;

/**
 * Receives every episode when it ends, with the connection's episode state as the core kept it: the place where
 * spans are built. Called on the thread that ended the episode (an event loop at close, the agent's timer after
 * calm, the shutdown hook); implementations must be quick and must not throw.
 */
public interface EpisodeSink {

    /**
     * @param endNanos     when the episode ended ({@link Clock} time)
     * @param pendingAtEnd bytes still queued when it ended (0 after a clean drain)
     * @param error        why the episode ended badly (closed with bytes pending, process shutting down), or null
     */
    void ended(TrackedConnection connection, long endNanos, long pendingAtEnd, String error);

    EpisodeSink NONE = new EpisodeSink() {
        @Override
        public void ended(TrackedConnection connection, long endNanos, long pendingAtEnd, String error) {
        }
    };
}

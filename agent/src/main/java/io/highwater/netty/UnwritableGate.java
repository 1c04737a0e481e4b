package io.highwater.netty;

import io.highwater.core.GatedMap;
import io.highwater.core.TransportProbe;
import io.highwater.netty.bootstrap.NettyCalls;

import java.util.function.Predicate;

/**
 * The Netty channels that are unwritable now, as far as their transitions tell (an outbound buffer above its
 * high-water mark, an HTTP/2 stream channel without window), by the channel's identity, mirrored into
 * {@link NettyCalls#unwritableChannels} (how many) and {@link NettyCalls#unwritableFilter} (a counting filter over
 * their identity hashes). Every hop of every write passes the pipeline-write advice: while no channel in the JVM is
 * unwritable (nearly always, on a healthy server) one read of that counter is all it costs, and while some are,
 * one filter read tells nearly every other channel's write that it is not one of them, instead of
 * {@code ctx.channel().isWritable()} at each hop (BENCHMARKS.md, pipeline writes).
 *
 * <p>Exactness matters one way only: a channel that is unwritable and not in here is not judged, a channel that is
 * writable and still in here only costs the check it cost before. So each transition re-reads the state under a
 * lock of its own key's stripe (writability flips on the event loop and, for writes submitted from other threads,
 * on those threads: the last update of a key always sees the last state), a closed channel leaves at its close or
 * at the next tick, and the gate stays open (a {@link TransportProbe#stopState} of -1) when the state cannot be read.
 * Bounded: beyond {@code max} entries the counter is non-zero anyway, and every write is checked as before.
 */
final class UnwritableGate {

    private static final int STRIPES = 64;
    private static final int MAX = 100_000;

    /** One per JVM, as the counter it mirrors is: the netty and http2 integrations both feed it. */
    static final UnwritableGate GATE = new UnwritableGate();

    /** Channel to how the timer tells whether it is still open. */
    private final GatedMap<Predicate<Object>> members =
            new GatedMap<>(NettyCalls.unwritableChannels, NettyCalls.unwritableFilter, true, MAX);
    private final Object[] stripes = new Object[STRIPES];

    private UnwritableGate() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Object();
        }
    }

    /**
     * {@code channel} may have changed its writability: its membership follows what {@code probe} reads from
     * {@code transport} (its outbound buffer, or the stream channel itself) now; {@code open} tells the timer
     * whether the channel is still open (a shared instance: nothing is allocated per channel but the entry). Answers
     * the {@link TransportProbe#stopState} it read, so that a caller that needs it does not read it twice.
     */
    int changed(Object channel, TransportProbe probe, Object transport, Predicate<Object> open) {
        synchronized (stripe(channel)) {
            int state = probe.stopState(transport);
            if (state != 0) {
                members.add(channel, open);
            } else {
                members.remove(channel);
            }
            return state;
        }
    }

    /** {@code channel} closed: nothing written to it piles up any more. */
    void closed(Object channel) {
        synchronized (stripe(channel)) {
            members.remove(channel);
        }
    }

    /** On the agent's timer: members whose channel closed without the agent seeing it, and collected ones. */
    void tick() {
        members.removeIf((channel, open) -> !open.test(channel));
    }

    /** The agent is going away: the advice, if it stays, judges nothing more. */
    void clear() {
        members.clear();
    }

    int size() {
        return members.size();
    }

    private Object stripe(Object key) {
        return stripes[System.identityHashCode(key) & (STRIPES - 1)];
    }
}

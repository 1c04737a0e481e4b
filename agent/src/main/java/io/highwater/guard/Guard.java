package io.highwater.guard;

import io.highwater.base.Log;
import io.highwater.config.Settings;
import io.highwater.core.CallSite;
import io.highwater.core.Clock;
import io.highwater.core.GuardCounts;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.Snapshot;
import io.highwater.core.TrackedConnection;
import io.highwater.core.WriteGuard;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The guard (issue 20, docs/guard.md): stops one slow client from taking the process down. Strictly opt-in: with
 * {@code highwater.guard.mode=off} (the default) {@link #create} returns null, nothing of this is built, and the
 * write paths see a null {@link Monitor#guard()}.
 *
 * <p>Where it looks: on the agent's timer ({@link #tick}, after the monitor's own tick, no thread of its own), at every
 * connection the agent tracks, grouped by connection as {@link Snapshot} groups them (all layers together, shares
 * included); and on the slow paths where an integration is called for a write anyway (Netty: a write into an
 * unwritable channel), so that a writer that ignores backpressure is stopped at the write that would take it beyond
 * {@code connection.max}, not a timer tick later (an ignoring writer can queue hundreds of megabytes in a second).
 *
 * <p>Why it acts: a connection holding more than {@code connection.max} ({@code connection_limit}); a wait that has
 * drained nothing for {@code stall} ({@code stall}); the pool that holds pending bytes (heap or direct) having less
 * than {@code memory.reserve} of its limit free while tracked connections hold a sizeable part of it ({@code memory}:
 * the heaviest connection first, then the next, until the estimate leaves room). A connection that respects
 * backpressure stays near its high-water mark, far below any sensible {@code connection.max}: only its stall can fire.
 *
 * <p>How: {@code close} closes through the transport's own close ({@link TrackedConnection#closeTransport});
 * {@code fail} marks the connection, and its next application write (on the integration's slow path) fails with an
 * {@code IOException} naming highwater, the limit and the setting. In {@code observe} it counts and says what
 * {@code enforce} would do and changes nothing. Each reason is acted on (and counted, and said) once per connection.
 */
public final class Guard implements WriteGuard {

    static final int LIMIT = 0;
    static final int STALL = 1;
    static final int MEMORY = 2;
    static final int CLOSE = 0;
    static final int FAIL_ACTION = 1;
    /** How many of the heaviest connections a tick looks at for the limit and for memory. */
    static final int TOP = 64;
    /**
     * Memory is acted on only when tracked connections hold at least this share of the pool's used bytes: a heap
     * that is full of something else is not the slow clients' doing, and closing them would not help.
     */
    static final double SIZEABLE = 0.25;
    private static final int LINES_PER_SECOND = 5;

    private final Monitor monitor;
    private final Clock clock;
    private final MemoryPools pools;
    private final boolean enforce;
    private final int action;
    private final long max;
    private final long stallNanos;
    private final double reserve;
    private final String maxText;
    private final String stallText;
    private final GuardCounts counts = new GuardCounts();
    private final RateLimiter lines;
    private final AtomicLong unsaid = new AtomicLong();

    Guard(Monitor monitor, MemoryPools pools, boolean enforce, boolean fail, long max, String maxText,
          Duration stall, String stallText, double reserve) {
        this.monitor = monitor;
        this.clock = monitor.clock();
        this.pools = pools;
        this.enforce = enforce;
        this.action = fail ? FAIL_ACTION : CLOSE;
        this.max = max;
        this.maxText = maxText;
        this.stallNanos = stall.toNanos();
        this.stallText = stallText;
        this.reserve = reserve;
        this.lines = new RateLimiter(LINES_PER_SECOND, clock);
    }

    /** The guard as the settings ask for it, attached to {@code monitor}; null (and nothing attached) when off. */
    public static Guard create(Settings settings, Monitor monitor, MemoryPools pools) {
        String mode = settings.choice("highwater.guard.mode", "off", "observe", "enforce");
        if (mode.equals("off")) {
            return null;
        }
        long max = settings.size("highwater.guard.connection.max", 1);
        Duration stall = settings.duration("highwater.guard.stall", Duration.ofMillis(100));
        double reserve = settings.decimal("highwater.guard.memory.reserve", 0.0, 1.0);
        boolean fail = settings.choice("highwater.guard.action", "close", "fail").equals("fail");
        String given = settings.string("highwater.guard.connection.max").trim();
        String stallGiven = settings.string("highwater.guard.stall").trim();
        Guard g = new Guard(monitor, pools, mode.equals("enforce"), fail, max,
                Settings.parseSize(given) == max ? given : max + "B", stall,
                stall.equals(Settings.parseDuration(stallGiven)) ? stallGiven : Settings.format(stall), reserve);
        monitor.attachGuard(g, g.counts);
        return g;
    }

    /** For the start-up line and {@code status}. */
    public String describe() {
        return "guard " + (enforce ? "enforce" : "observe") + " (action=" + GuardCounts.ACTIONS[action]
                + ", connection.max=" + maxText + ", stall=" + stallText + ", memory.reserve=" + reserve + ")";
    }

    public GuardCounts counts() {
        return counts;
    }

    // ---------------------------------------------------------------- the write path (slow path only)

    @Override
    public int beforeWrite(TrackedConnection c, long pendingBefore, long bytes) {
        if (action == FAIL_ACTION && enforce && refuses(c)) {
            return FAIL;
        }
        long after = pendingBefore + bytes;
        if (after <= max) {
            return PASS;
        }
        return act(c, LIMIT, after, connectionMaxSetting());
    }

    @Override
    public boolean refuses(TrackedConnection c) {
        return enforce && action == FAIL_ACTION && c != null && c.guardReason() != null;
    }

    @Override
    public String refusal(TrackedConnection c) {
        String reason = c.guardReason();
        return "highwater guard: write refused, the connection " + (reason == null ? "was marked by the guard"
                : reasonText(reason)) + " (" + setting(reason) + ", highwater.guard.action="
                + GuardCounts.ACTIONS[action] + ")";
    }

    // ---------------------------------------------------------------- the timer

    /** On the agent's timer, after the monitor's tick: stalls, connections beyond the limit, memory. */
    public void tick() {
        long now = clock.nanoTime();
        for (TrackedConnection c : monitor.registry().live()) {
            if (c.sinceProgressAtTick(now) >= stallNanos && !c.guarded(1 << STALL)) {
                long p = c.pendingBytes();
                if (p > 0) {
                    act(c, STALL, p, "highwater.guard.stall=" + stallText);
                }
            }
        }
        Snapshot s = Snapshot.take(monitor, TOP, now);
        List<Snapshot.Entry> top = s.top();
        for (Snapshot.Entry e : top) {
            if (e.pendingBytes > max && !e.connection.guarded(1 << LIMIT)) {
                act(e.connection, LIMIT, e.pendingBytes, connectionMaxSetting());
            }
        }
        memory(top, MemoryPools.HEAP);
        memory(top, MemoryPools.DIRECT);
    }

    /**
     * When {@code pool} has less than the reserve free and the top connections hold a sizeable part of what it
     * uses: the heaviest first, then the next, each counted as freeing what it holds, until the estimate leaves room.
     */
    private void memory(List<Snapshot.Entry> top, String pool) {
        long limit = pools.max(pool);
        long used = pools.used(pool);
        if (limit <= 0 || used < 0 || top.isEmpty()) {
            return;
        }
        long room = (long) (reserve * limit);
        if (limit - used >= room) {
            return;
        }
        long held = 0;
        for (Snapshot.Entry e : top) {
            held += e.pendingBytes;
        }
        if (held < SIZEABLE * used) {
            return;
        }
        String setting = "highwater.guard.memory.reserve=" + reserve + " (" + pool + ": " + mib(used) + " of "
                + mib(limit) + " used)";
        for (Snapshot.Entry e : top) {
            if (limit - used >= room) {
                return;
            }
            if (!e.connection.guarded(1 << MEMORY)) {
                act(e.connection, MEMORY, e.pendingBytes, setting);
            }
            // acted on now or at an earlier tick: what it holds is on its way out
            used -= e.pendingBytes;
        }
    }

    // ---------------------------------------------------------------- acting

    private int act(TrackedConnection c, int reason, long bytes, String setting) {
        if (!c.guardOnce(1 << reason, GuardCounts.ACTIONS[action], GuardCounts.REASONS[reason], enforce,
                clock.nanoTime(), bytes)) {
            // said and done already: a closing connection lets its writes fail, a refused one fails them
            return enforce ? (action == FAIL_ACTION ? FAIL : CLOSED) : PASS;
        }
        if (!enforce) {
            counts.record(c.layer(), action, reason, false);
            say("observe: would " + GuardCounts.ACTIONS[action] + " ", c, reason, bytes, setting);
            return PASS;
        }
        if (action == FAIL_ACTION) {
            // sockets fail the write blocked now; Netty fails the next writes on its slow path
            if (!c.refuseTransport(refusal(c)) && !c.refusesOnWritePath()) {
                cannot(c, action, reason, "fail its writes");
                return PASS;
            }
            counts.record(c.layer(), action, reason, true);
            say("failing the writes of ", c, reason, bytes, setting);
            return FAIL;
        }
        if (!c.closeTransport()) {
            cannot(c, action, reason, "close its connections");
            return PASS;
        }
        counts.record(c.layer(), action, reason, true);
        say("closed ", c, reason, bytes, setting);
        return CLOSED;
    }

    /** A layer the guard cannot act on: counted as not enforced, said once per layer, never half done silently. */
    private void cannot(TrackedConnection c, int action, int reason, String what) {
        Log.once("guard-cannot:" + c.layer().id() + ":" + action, "guard: cannot " + what + " on layer "
                + c.layer().id() + " (its transport offers the agent no way to); what it would do there is counted"
                + " with backpressure.guard.enforced=false");
        counts.record(c.layer(), action, reason, false);
    }

    private void say(String what, TrackedConnection c, int reason, long bytes, String setting) {
        if (!lines.tryAcquire()) {
            unsaid.incrementAndGet();
            return;
        }
        long before = unsaid.getAndSet(0);
        CallSite site = c.lastSite();
        Log.warn("guard: " + what + "the connection " + peer(c) + " (" + c.layer().id() + "): "
                + reasonText(GuardCounts.REASONS[reason]) + ", holding " + bytes + " bytes, written from "
                + (site == null ? "an unknown call site" : site.function()) + "; " + setting
                + (before > 0 ? " (" + before + " earlier actions not said: at most " + LINES_PER_SECOND
                + " lines a second)" : ""));
    }

    private static String peer(TrackedConnection c) {
        String a = c.peerAddress();
        return (a == null ? "?" : a) + ":" + (c.peerPort() < 0 ? "?" : c.peerPort())
                + (c.serverPort() < 0 ? "" : " on server port " + c.serverPort());
    }

    private String connectionMaxSetting() {
        return "highwater.guard.connection.max=" + maxText;
    }

    private static String reasonText(String reason) {
        switch (reason) {
            case "connection_limit":
                return "held more pending bytes than the connection limit";
            case "stall":
                return "drained nothing for the stall limit";
            default:
                return "held the most memory when the pool ran short";
        }
    }

    private String setting(String reason) {
        if (reason == null) {
            return connectionMaxSetting();
        }
        switch (reason) {
            case "connection_limit":
                return connectionMaxSetting();
            case "stall":
                return "highwater.guard.stall=" + stallText;
            default:
                return "highwater.guard.memory.reserve=" + reserve;
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}

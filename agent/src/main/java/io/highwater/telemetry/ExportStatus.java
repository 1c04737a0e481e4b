package io.highwater.telemetry;

import io.highwater.base.AgentTimer;
import io.highwater.base.Log;
import io.highwater.core.DropKind;
import io.highwater.core.Dropped;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * How the agent's exports fare: one record per signal and endpoint ({@link Target}), one state per collector
 * (host and port), whatever signals go there.
 *
 * <p>What the user sees: one log line at the first failure of each kind (refused, timed out, an HTTP status, out
 * of memory) once a collector starts failing, said at the failed <em>attempt</em>, not after the exporter's
 * retries; one line when an export reaches it again. Each export that did not reach the collector counts one
 * {@code backpressure.agent.dropped{backpressure.dropped.kind=export}}. {@code status} shows the state, the last
 * success and the failures by kind ({@link #describe()}).
 *
 * <p>Called from the senders' threads and the agent's timer; never from the application's threads. Thread-safe.
 * Nothing here throws; what is reported on running out of memory allocates nothing.
 */
public final class ExportStatus {

    /** What an export carries. */
    public enum Signal {
        METRICS("metrics"),
        SPANS("spans");

        final String id;

        Signal(String id) {
            this.id = id;
        }
    }

    /** Why an export attempt failed, or why no attempt was made: the kinds {@code status} counts. */
    public enum Failure {
        /** Nothing listens at the endpoint. */
        REFUSED("refused"),
        /** No connection, or no answer, within the configured timeouts. */
        TIMEOUT("timeout"),
        /** The collector answered with an HTTP error status. */
        HTTP("http"),
        /** Any other I/O failure: unknown host, connection reset, ... */
        IO("io"),
        /** The agent ran out of heap while making the export. */
        MEMORY("out of memory"),
        /** Not made: the previous export of this signal was still under way at the next interval. */
        SKIPPED("skipped");

        final String id;

        Failure(String id) {
            this.id = id;
        }
    }

    private static volatile ExportStatus current;
    /** A heap hovering at its limit: the agent running out of memory in an export is said once a minute at most. */
    static final long MEMORY_LINE_EVERY_MILLIS = 60_000;

    private final Dropped dropped;
    private final MemoryReserve reserve;
    private final LongSupplier clockMillis;
    private final Consumer<String> out;
    private final List<Target> targets = new CopyOnWriteArrayList<>();
    private final List<Collector> collectors = new CopyOnWriteArrayList<>();
    /** Set at shutdown: an export cut short by it is not news. */
    private volatile boolean closing;
    /** The agent's timer, for the senders' watchdogs; null until telemetry runs. */
    private volatile AgentTimer timer;

    /**
     * @param out receives complete log lines, {@link Log#PREFIX} included
     */
    ExportStatus(Dropped dropped, MemoryReserve reserve, LongSupplier clockMillis, Consumer<String> out) {
        this.dropped = dropped;
        this.reserve = reserve;
        this.clockMillis = clockMillis;
        this.out = out;
    }

    public ExportStatus(Dropped dropped, MemoryReserve reserve) {
        this(dropped, reserve, System::currentTimeMillis, Log::line);
    }

    /** The status the senders of the SDK being built report to (they are made by the SDK, through a provider). */
    static ExportStatus current() {
        return current;
    }

    static void makeCurrent(ExportStatus status) {
        current = status;
    }

    public MemoryReserve reserve() {
        return reserve;
    }

    AgentTimer timer() {
        return timer;
    }

    void timer(AgentTimer timer) {
        this.timer = timer;
    }

    /** The record of {@code signal} sent to {@code endpoint}; the same one for the same pair, so rebuilds share it. */
    synchronized Target target(Signal signal, URI endpoint) {
        String raw = String.valueOf(endpoint);
        for (Target t : targets) {
            if (t.signal == signal && t.raw.equals(raw)) {
                return t;
            }
        }
        String authority = endpoint == null || endpoint.getAuthority() == null ? raw
                : endpoint.getHost() + ":" + endpoint.getPort();
        Collector collector = null;
        for (Collector c : collectors) {
            if (c.authority.equals(authority)) {
                collector = c;
            }
        }
        if (collector == null) {
            collector = new Collector(authority);
            collectors.add(collector);
        }
        Target t = new Target(signal, raw, OtelSettings.mask(raw), collector, reserve.bytes());
        targets.add(t);
        return t;
    }

    /**
     * The record a sender for {@code endpoint} reports to: the signal registered for it, or else the one its path
     * names ({@code /v1/traces} is spans).
     */
    Target targetFor(URI endpoint) {
        String raw = String.valueOf(endpoint);
        for (Target t : targets) {
            if (t.raw.equals(raw)) {
                return t;
            }
        }
        String path = endpoint == null ? null : endpoint.getPath();
        return target(path != null && path.endsWith("/v1/traces") ? Signal.SPANS : Signal.METRICS, endpoint);
    }

    // ------------------------------------------------------------------ events

    /** The status's clock, for {@link #attemptFailed}'s start times. */
    long now() {
        return clockMillis.getAsLong();
    }

    /** As {@link #attemptFailed(Target, Failure, int, String, long)} for an attempt that started just now. */
    void attemptFailed(Target t, Failure kind, int httpStatus, String detail) {
        attemptFailed(t, kind, httpStatus, detail, Long.MAX_VALUE);
    }

    /**
     * One attempt failed; the export may still be retried. Said once per kind while the collector keeps failing.
     * An attempt that started before the collector's last success (one that hung on while others got through) is
     * counted, but does not make the collector failing again: it is old news.
     *
     * @param startedMillis when the attempt started, on {@link #now()}'s clock
     */
    void attemptFailed(Target t, Failure kind, int httpStatus, String detail, long startedMillis) {
        try {
            t.failures.incrementAndGet(kind.ordinal());
            t.lastFailureMillis = clockMillis.getAsLong();
            t.lastProblem = detail;
            Collector c = t.collector;
            if (startedMillis < c.lastSuccessMillis) {
                return;
            }
            c.startFailing(t.lastFailureMillis);
            String key = kind == Failure.HTTP ? "http " + httpStatus : kind.id;
            if (!closing && c.said.add(key)) {
                if (!say(Log.PREFIX + "export failed to " + t.endpoint + ": " + detail + " (the application is"
                        + " unaffected; said once per kind of failure, and again when export recovers)")) {
                    c.said.remove(key);
                }
            }
        } catch (Throwable e) {
            lackOfMemory(e);
        }
    }

    /** An export did not reach the collector and will not be retried. */
    void exportFailed(Target t) {
        drop(t);
    }

    /**
     * No export was made because the previous one of this signal is still under way. A dropped export while the
     * collector is failing (the previous one is waiting for a collector that does not answer); otherwise only a
     * slow export, counted in {@code status} alone.
     */
    void skipped(Target t) {
        t.failures.incrementAndGet(Failure.SKIPPED.ordinal());
        if (t.collector.failing) {
            drop(t);
        }
    }

    /**
     * The agent ran out of heap making or sending an export: the reserve goes, the export counts as dropped, and one
     * line built beforehand says so. A heap that hovers at its limit is said once a minute at most: within a minute
     * of the line, and after a recovery, running out again is counted but not news. Allocates nothing.
     */
    void outOfMemory(Target t) {
        reserve.release();
        try {
            long now = clockMillis.getAsLong();
            t.failures.incrementAndGet(Failure.MEMORY.ordinal());
            t.lastFailureMillis = now;
            t.lastProblem = t.memoryProblem;
            Collector c = t.collector;
            if (c.saidMemory.get() && !c.failing) {
                if (now - c.memorySaidMillis < MEMORY_LINE_EVERY_MILLIS) {
                    drop(t);
                    return;
                }
                c.saidMemory.set(false);
            }
            c.startFailing(now);
            drop(t);
            if (!closing && c.saidMemory.compareAndSet(false, true)) {
                if (say(t.memoryLine)) {
                    c.memorySaidMillis = now;
                } else {
                    c.saidMemory.set(false);
                }
            }
        } catch (Throwable e) {
            lackOfMemory(e);
        }
    }

    /** An export reached the collector: if it was failing, one line says it recovered. */
    void succeeded(Target t) {
        try {
            long now = clockMillis.getAsLong();
            t.lastSuccessMillis = now;
            Collector c = t.collector;
            long droppedMeanwhile = c.recover(now);
            if (droppedMeanwhile >= 0 && !closing) {
                say(Log.PREFIX + "export recovered: " + t.signal.id + " reach " + t.endpoint + " again; "
                        + droppedMeanwhile + " export(s) did not reach it while it failed (counted in"
                        + " backpressure.agent.dropped, kind export)");
            }
        } catch (Throwable e) {
            lackOfMemory(e);
        }
    }

    /** From now on failures are the shutdown's doing, not news. */
    public void closing() {
        closing = true;
    }

    /** True while some collector is failing. */
    public boolean failing() {
        for (Collector c : collectors) {
            if (c.failing) {
                return true;
            }
        }
        return false;
    }

    /** Exports that did not reach a collector, over the agent's life. */
    long exportsDropped() {
        long n = 0;
        for (Target t : targets) {
            n += t.dropped.get();
        }
        return n;
    }

    private void drop(Target t) {
        t.dropped.incrementAndGet();
        t.collector.dropped.incrementAndGet();
        dropped.add(DropKind.EXPORT);
    }

    private boolean say(String line) {
        try {
            out.accept(line);
            return true;
        } catch (Throwable e) {
            lackOfMemory(e);
            return false;
        }
    }

    private void lackOfMemory(Throwable e) {
        if (MemoryReserve.isOutOfMemory(e)) {
            reserve.release();
        }
    }

    // ------------------------------------------------------------------ status

    /**
     * For {@code status}: the state over all collectors, then per signal and endpoint the last success and the
     * failures by kind, e.g.
     * <pre>
     * export: failing since 2025-01-02T10:00:00Z
     *   metrics to http://collector:4318/v1/metrics: last success never; failed: timeout 3; skipped 2; dropped 5
     * </pre>
     */
    public String describe() {
        StringBuilder b = new StringBuilder("export: ");
        long since = Long.MAX_VALUE;
        long lastSuccess = -1;
        for (Collector c : collectors) {
            if (c.failing) {
                since = Math.min(since, c.failingSinceMillis);
            }
        }
        for (Target t : targets) {
            lastSuccess = Math.max(lastSuccess, t.lastSuccessMillis);
        }
        if (since != Long.MAX_VALUE) {
            b.append("failing since ").append(time(since));
        } else if (lastSuccess >= 0) {
            b.append("ok");
        } else {
            b.append("no export yet");
        }
        b.append(", last success ").append(lastSuccess < 0 ? "never" : time(lastSuccess));
        b.append(", exports dropped ").append(exportsDropped());
        for (Target t : targets) {
            b.append("\n  ").append(t.signal.id).append(" to ").append(t.endpoint).append(": last success ")
                    .append(t.lastSuccessMillis < 0 ? "never" : time(t.lastSuccessMillis)).append("; failed:");
            List<String> kinds = new ArrayList<>();
            for (Failure f : Failure.values()) {
                long n = t.failures.get(f.ordinal());
                if (n > 0) {
                    kinds.add(f.id + " " + n);
                }
            }
            b.append(kinds.isEmpty() ? " none" : " " + String.join(", ", kinds));
            b.append("; dropped ").append(t.dropped.get());
            String problem = t.lastProblem;
            if (problem != null && t.lastFailureMillis >= 0) {
                b.append("; last failure ").append(time(t.lastFailureMillis)).append(": ").append(problem);
            }
        }
        return b.toString();
    }

    private static String time(long millis) {
        return Instant.ofEpochMilli(millis).toString();
    }

    /** One signal sent to one endpoint. */
    static final class Target {
        final Signal signal;
        final String raw;
        /** The endpoint as it may be printed: credentials masked. */
        final String endpoint;
        final Collector collector;
        final AtomicLongArray failures = new AtomicLongArray(Failure.values().length);
        final AtomicLong dropped = new AtomicLong();
        /**
         * Exports a sender holds, from the hand-over to the end of its last attempt: while one is held, the next
         * collection must wait (with reusable memory it would overwrite what the held one may still serialise),
         * also when the exporter failed after handing it over and never returned its result.
         */
        final AtomicInteger held = new AtomicInteger();
        volatile long lastSuccessMillis = -1;
        volatile long lastFailureMillis = -1;
        volatile String lastProblem;
        /** Built while memory is plentiful: said when there is none. */
        final String memoryProblem;
        final String memoryLine;

        Target(Signal signal, String raw, String endpoint, Collector collector, long reserveBytes) {
            this.signal = signal;
            this.raw = raw;
            this.endpoint = endpoint;
            this.collector = collector;
            this.memoryProblem = "out of memory in the agent while exporting " + signal.id;
            this.memoryLine = Log.PREFIX + "export failed: the heap is full; out of memory in the agent while"
                    + " exporting " + signal.id + " to " + endpoint + ". That export is dropped (counted in"
                    + " backpressure.agent.dropped, kind export); the agent let go of its "
                    + ConsoleSummary.bytes(reserveBytes) + " memory reserve and exports again at the next interval"
                    + " (said once, and again when export recovers)";
        }
    }

    /** The state of one collector (host and port). */
    static final class Collector {
        final String authority;
        final Set<String> said = ConcurrentHashMap.newKeySet();
        final AtomicBoolean saidMemory = new AtomicBoolean();
        final AtomicLong dropped = new AtomicLong();
        volatile boolean failing;
        volatile long failingSinceMillis;
        volatile long lastSuccessMillis = Long.MIN_VALUE;
        volatile long memorySaidMillis;
        private long droppedAtStart;

        Collector(String authority) {
            this.authority = authority;
        }

        synchronized void startFailing(long now) {
            if (!failing) {
                failing = true;
                failingSinceMillis = now;
                droppedAtStart = dropped.get();
            }
        }

        /** @return the exports dropped since it started failing, or -1 when it was not failing */
        synchronized long recover(long now) {
            lastSuccessMillis = Math.max(lastSuccessMillis, now);
            if (!failing) {
                return -1;
            }
            failing = false;
            said.clear();
            if (now - memorySaidMillis >= MEMORY_LINE_EVERY_MILLIS) {
                saidMemory.set(false);
            }
            return dropped.get() - droppedAtStart;
        }
    }
}

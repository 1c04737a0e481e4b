package io.highwater.telemetry;

import io.highwater.core.CallSite;
import io.highwater.core.Clock;
import io.highwater.core.DropKind;
import io.highwater.core.Dropped;
import io.highwater.core.EpisodeSink;
import io.highwater.core.RateLimiter;
import io.highwater.core.TraceLink;
import io.highwater.core.TrackedConnection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;

import java.util.concurrent.TimeUnit;

/**
 * One span per backpressure episode, built when the episode ends from the state the core kept (no live SDK span
 * per open episode), with explicit start and end timestamps. Short hiccups without ignored writes produce nothing;
 * the rest is rate-limited, and what the limit drops is counted.
 */
final class EpisodeSpans implements EpisodeSink {

    static final AttributeKey<Long> PEAK = AttributeKey.longKey("backpressure.pending.peak_bytes");
    static final AttributeKey<Long> IGNORED_WRITES = AttributeKey.longKey("backpressure.ignored.writes");
    static final AttributeKey<Long> IGNORED_BYTES = AttributeKey.longKey("backpressure.ignored.bytes");
    static final AttributeKey<Double> WAIT = AttributeKey.doubleKey("backpressure.drain.wait_seconds");
    static final AttributeKey<Boolean> STALLED = AttributeKey.booleanKey("backpressure.stalled");
    static final AttributeKey<Long> PENDING_AT_END = AttributeKey.longKey("backpressure.pending.bytes");
    static final AttributeKey<Long> PENDING_AT_START = AttributeKey.longKey("backpressure.pending.start_bytes");
    static final AttributeKey<Long> WAITS = AttributeKey.longKey("backpressure.drain.waits");
    static final AttributeKey<Long> TOTAL_AT_PEAK = AttributeKey.longKey("backpressure.pending.total_bytes");
    /** {@code backpressure.share.<layer>.bytes}, per layer. */
    private static final java.util.Map<io.highwater.core.Layer, AttributeKey<Long>> SHARE_KEYS =
            new java.util.concurrent.ConcurrentHashMap<>();
    static final AttributeKey<Boolean> FOUND_AT_ATTACH = AttributeKey.booleanKey("backpressure.found_at_attach");
    /** On each summarised event: how many moments of its kind the episode had. */
    static final AttributeKey<Long> EVENT_COUNT = AttributeKey.longKey("backpressure.event.count");
    /** On the event that marks the last moment of its kind (the first one does not carry it). */
    static final AttributeKey<Boolean> EVENT_LAST = AttributeKey.booleanKey("backpressure.event.last");
    private static final String[] EVENT_NAMES = {"stop", "go", "stall"};
    private static final String PEAK_EVENT = "peak";

    private final Tracer tracer;
    private final RateLimiter limiter;
    private final Dropped dropped;
    private final long minDurationNanos;
    /** Converts the monotonic clock into epoch time: one anchor taken at start. */
    private final long epochAnchorNanos;
    private final long clockAnchorNanos;

    EpisodeSpans(Tracer tracer, RateLimiter limiter, Dropped dropped, long minDurationNanos, Clock clock) {
        this.tracer = tracer;
        this.limiter = limiter;
        this.dropped = dropped;
        this.minDurationNanos = minDurationNanos;
        this.clockAnchorNanos = clock.nanoTime();
        this.epochAnchorNanos = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());
    }

    @Override
    public void ended(TrackedConnection c, long endNanos, long pendingAtEnd, String error) {
        long duration = endNanos - c.episodeStartNanos();
        long ignored = c.episodeIgnoredWrites();
        if (duration < minDurationNanos && ignored == 0 && error == null) {
            return;
        }
        if (!limiter.tryAcquire()) {
            dropped.add(DropKind.SPAN);
            return;
        }
        SpanBuilder b = tracer.spanBuilder("backpressure " + c.layer().id())
                .setSpanKind(SpanKind.INTERNAL)
                .setNoParent()
                .setStartTimestamp(epoch(c.episodeStartNanos()), TimeUnit.NANOSECONDS)
                .setAllAttributes(Telemetry.streamAttributes(c))
                .setAttribute(PEAK, c.peakPending())
                .setAttribute(PENDING_AT_START, c.pendingAtStart())
                .setAttribute(IGNORED_WRITES, ignored)
                .setAttribute(IGNORED_BYTES, c.episodeIgnoredBytes())
                .setAttribute(WAIT, c.episodeWaitNanos(endNanos) / 1e9)
                .setAttribute(WAITS, (long) c.waits())
                .setAttribute(STALLED, c.stalled());
        TraceLink link = c.traceLink();
        if (link != null) {
            // a link, not a parent: the episode outlives the request's span and belongs to the connection
            b.addLink(SpanContext.createFromRemoteParent(link.traceId, link.spanId,
                    link.sampled ? TraceFlags.getSampled() : TraceFlags.getDefault(), TraceState.getDefault()));
        }
        // the site of an ignored write; else, for an episode of blocking writes, the call that was made to wait
        CallSite site = ignored > 0 ? c.lastSite() : c.waitSite();
        if (site != null) {
            b.setAttribute(Telemetry.FUNCTION, site.function());
        }
        long[] shares = c.peakShares();
        if (shares != null) {
            // the whole connection at its highest total: each layer's share (a framework's queue, Netty's buffer)
            b.setAttribute(TOTAL_AT_PEAK, c.peakTotal());
            for (int i = 0; i < shares.length; i++) {
                if (shares[i] > 0) {
                    io.highwater.core.Layer layer = io.highwater.core.Layer.byIndex(i);
                    b.setAttribute(SHARE_KEYS.computeIfAbsent(layer,
                            l -> AttributeKey.longKey("backpressure.share." + l.id() + ".bytes")), shares[i]);
                }
            }
        }
        if (c.foundAtAttach()) {
            // its first wait began before the agent was there: counted from the attach
            b.setAttribute(FOUND_AT_ATTACH, true);
        }
        Span span = b.startSpan();
        // a summary, never a truncated list: each kind's first and last moment with its count, and the peak
        for (int kind = 0; kind < TrackedConnection.EVENT_KINDS; kind++) {
            int count = c.eventCount(kind);
            if (count == 0) {
                continue;
            }
            span.addEvent(EVENT_NAMES[kind], Attributes.of(EVENT_COUNT, (long) count),
                    epoch(c.firstEventNanos(kind)), TimeUnit.NANOSECONDS);
            if (count > 1) {
                span.addEvent(EVENT_NAMES[kind], Attributes.of(EVENT_COUNT, (long) count, EVENT_LAST, true),
                        epoch(c.lastEventNanos(kind)), TimeUnit.NANOSECONDS);
            }
        }
        if (c.peakPending() > 0) {
            span.addEvent(PEAK_EVENT, Attributes.of(PENDING_AT_END, c.peakPending()), epoch(c.peakAtNanos()),
                    TimeUnit.NANOSECONDS);
        }
        String guard = c.guardReason();
        if (guard != null) {
            span.addEvent("guard", Attributes.builder()
                    .put(Telemetry.GUARD_ACTION, c.guardAction())
                    .put(Telemetry.GUARD_REASON, guard)
                    .put(Telemetry.GUARD_ENFORCED, c.guardEnforced())
                    .put(PENDING_AT_END, c.guardBytes())
                    .build(), epoch(c.guardNanos()), TimeUnit.NANOSECONDS);
        }
        if (error != null) {
            span.setAttribute(PENDING_AT_END, pendingAtEnd);
            span.setStatus(StatusCode.ERROR, error);
        }
        span.end(epoch(endNanos), TimeUnit.NANOSECONDS);
    }

    private long epoch(long clockNanos) {
        return epochAnchorNanos + (clockNanos - clockAnchorNanos);
    }
}

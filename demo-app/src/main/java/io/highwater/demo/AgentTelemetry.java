package io.highwater.demo;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the highwater agent exported, as the live view needs it: the latest value of each instrument of the metric
 * contract (shared/DESIGN.md), decoded from the official OTLP protobuf messages, plus the peak each connection's
 * pending bytes reached in what was exported, and one summary per episode span.
 *
 * <p>Counters and the drain-wait histogram are read as cumulative values (the SDK's default); should the agent be
 * configured for delta temporality, the deltas are added up here, so the view shows totals either way.
 * Per-connection gauges describe the top N connections of the latest batch only: a connection that is no longer
 * under pressure simply is not in it.
 *
 * <p>Thread-safe: the receiver's thread feeds it, the view's thread reads {@link #snapshot()}.
 */
final class AgentTelemetry {
    static final String PENDING = "backpressure.pending.bytes";
    static final String CONNECTION_PENDING = "backpressure.connection.pending.bytes";
    static final String BLOCKED = "backpressure.connections.blocked";
    static final String OLDEST_WAIT = "backpressure.drain.oldest_wait";
    static final String DRAIN_WAIT = "backpressure.drain.wait";
    static final String STALLS = "backpressure.drain.stalls";
    static final String IGNORED_WRITES = "backpressure.ignored.writes";
    static final String IGNORED_BYTES = "backpressure.ignored.bytes";
    static final String MEMORY_LIMIT = "backpressure.memory.limit";
    static final String DROPPED = "backpressure.agent.dropped";
    static final String KERNEL_QUEUED = "backpressure.kernel.queued.bytes";

    static final String LAYER = "backpressure.layer";
    static final String PEER_PORT = "network.peer.port";
    static final String FUNCTION = "code.function.name";

    /** An immutable copy of what is known; maps are keyed by layer unless said otherwise. */
    static final class Snapshot {
        int metricBatches;
        int spanBatches;
        int spans;
        /** {@link System#nanoTime()} of the latest metrics batch, or 0. */
        long lastMetricsNanos;
        Map<String, Long> pending = new TreeMap<>();
        /** Peer port (the client's local port) → pending bytes, from the latest batch. */
        Map<Long, Long> connectionPending = new TreeMap<>();
        /** Peer port → the largest pending bytes exported for it, in any batch or span. */
        Map<Long, Long> connectionPeak = new TreeMap<>();
        /**
         * Peer port → layer → that layer's share of the connection's pending bytes, from the latest batch: a
         * connection holds bytes in several layers at once (Vert.x's queue and Netty's outbound buffer, say).
         */
        Map<Long, Map<String, Long>> connectionShares = new TreeMap<>();
        /** Peer port → layer → the largest share of that layer exported for it in any batch. */
        Map<Long, Map<String, Long>> connectionSharePeak = new TreeMap<>();
        /**
         * Peer port → the kernel's send queue of that connection, from the latest batch: exported for the top N
         * connections only, and only where the agent can read /proc/net/tcp (Linux).
         */
        Map<Long, Long> kernelQueued = new TreeMap<>();
        /** Peer port → the largest kernel send queue exported for it in any batch. */
        Map<Long, Long> kernelQueuedPeak = new TreeMap<>();
        Map<String, Long> blocked = new TreeMap<>();
        Map<String, Double> oldestWait = new TreeMap<>();
        Map<String, Long> stalls = new TreeMap<>();
        /** {@code code.function.name} → ignored writes. */
        Map<String, Long> ignoredWrites = new TreeMap<>();
        Map<String, Long> ignoredBytes = new TreeMap<>();
        /** {@code backpressure.memory.kind} (heap, direct) → bytes. */
        Map<String, Long> memoryLimit = new TreeMap<>();
        /** {@code backpressure.dropped.kind} → items. */
        Map<String, Long> dropped = new TreeMap<>();
        Map<String, DrainWaitHistogram> drainWait = new TreeMap<>();

        long totalIgnoredWrites() {
            long n = 0;
            for (long v : ignoredWrites.values()) {
                n += v;
            }
            return n;
        }
    }

    /** One exported episode span, as the view prints it. */
    static final class SpanSummary {
        String name;
        long peerPort = -1;
        long durationNanos;
        long peakPendingBytes = -1;
        long ignoredWrites;
        double drainWaitSeconds = Double.NaN;
        String function;
        boolean error;
        String statusMessage = "";
        long pendingAtEnd = -1;
    }

    private final Snapshot current = new Snapshot();

    /** Takes one metrics request in; returns how many data points of the metric contract it held. */
    synchronized int accept(ExportMetricsServiceRequest request, long nowNanos) {
        int points = 0;
        boolean resetConnections = true;
        for (ResourceMetrics rm : request.getResourceMetricsList()) {
            for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                for (Metric m : sm.getMetricsList()) {
                    if (!m.getName().startsWith("backpressure.")) {
                        continue;
                    }
                    if (resetConnections) {
                        // the agent sends all its instruments in one request: connections missing from it are no
                        // longer among the top N under pressure
                        current.connectionPending.clear();
                        current.connectionShares.clear();
                        current.kernelQueued.clear();
                        resetConnections = false;
                    }
                    points += take(m);
                }
            }
        }
        current.metricBatches++;
        current.lastMetricsNanos = nowNanos;
        return points;
    }

    private int take(Metric m) {
        switch (m.getDataCase()) {
            case GAUGE:
                for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
                    gauge(m.getName(), p);
                }
                return m.getGauge().getDataPointsCount();
            case SUM:
                boolean delta = m.getSum().getAggregationTemporality()
                        == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
                for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                    sum(m.getName(), p, delta);
                }
                return m.getSum().getDataPointsCount();
            case HISTOGRAM:
                if (!DRAIN_WAIT.equals(m.getName())) {
                    return 0;
                }
                boolean deltaHistogram = m.getHistogram().getAggregationTemporality()
                        == AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
                for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
                    DrainWaitHistogram h = histogram(p);
                    String layer = attribute(p.getAttributesList(), LAYER, "?");
                    current.drainWait.merge(layer, h, deltaHistogram ? DrainWaitHistogram::plus : (old, now) -> now);
                }
                return m.getHistogram().getDataPointsCount();
            default:
                return 0;
        }
    }

    private void gauge(String name, NumberDataPoint p) {
        List<KeyValue> a = p.getAttributesList();
        switch (name) {
            case PENDING:
                current.pending.put(attribute(a, LAYER, "?"), asLong(p));
                break;
            case CONNECTION_PENDING: {
                long port = portOf(a);
                long bytes = asLong(p);
                current.connectionPending.merge(port, bytes, Long::sum);
                current.connectionPeak.merge(port, current.connectionPending.get(port), Math::max);
                String layer = attribute(a, LAYER, "?");
                current.connectionShares.computeIfAbsent(port, k -> new TreeMap<>()).merge(layer, bytes, Long::sum);
                current.connectionSharePeak.computeIfAbsent(port, k -> new TreeMap<>())
                        .merge(layer, current.connectionShares.get(port).get(layer), Math::max);
                break;
            }
            case KERNEL_QUEUED: {
                long port = portOf(a);
                current.kernelQueued.merge(port, asLong(p), Long::sum);
                current.kernelQueuedPeak.merge(port, current.kernelQueued.get(port), Math::max);
                break;
            }
            case BLOCKED:
                current.blocked.put(attribute(a, LAYER, "?"), asLong(p));
                break;
            case OLDEST_WAIT:
                current.oldestWait.put(attribute(a, LAYER, "?"), asDouble(p));
                break;
            case MEMORY_LIMIT:
                current.memoryLimit.put(attribute(a, "backpressure.memory.kind", "?"), asLong(p));
                break;
            default:
                // a gauge this view does not show
        }
    }

    private void sum(String name, NumberDataPoint p, boolean delta) {
        List<KeyValue> a = p.getAttributesList();
        Map<String, Long> target;
        String key;
        switch (name) {
            case IGNORED_WRITES:
                target = current.ignoredWrites;
                key = attribute(a, FUNCTION, "unknown");
                break;
            case IGNORED_BYTES:
                target = current.ignoredBytes;
                key = attribute(a, LAYER, "?");
                break;
            case STALLS:
                target = current.stalls;
                key = attribute(a, LAYER, "?");
                break;
            case DROPPED:
                target = current.dropped;
                key = attribute(a, "backpressure.dropped.kind", "?");
                break;
            default:
                return;
        }
        // one series per attribute set; the view's key may fold several (a call site under two signals)
        Map<String, Long> series = sums.computeIfAbsent(name + '\n' + key, k -> new HashMap<>());
        String id = canonical(a);
        if (delta) {
            series.merge(id, asLong(p), Long::sum);
        } else {
            series.put(id, asLong(p));
        }
        long total = 0;
        for (long v : series.values()) {
            total += v;
        }
        target.put(key, total);
    }

    /** Metric name and view key → series (canonical attributes) → total. */
    private final Map<String, Map<String, Long>> sums = new HashMap<>();

    private static String canonical(List<KeyValue> attributes) {
        Map<String, String> sorted = new TreeMap<>();
        for (KeyValue kv : attributes) {
            sorted.put(kv.getKey(), attribute(attributes, kv.getKey(), ""));
        }
        return sorted.toString();
    }

    /** Takes one trace request in; returns the summaries of its episode spans, in order. */
    synchronized List<SpanSummary> accept(ExportTraceServiceRequest request) {
        List<SpanSummary> out = new ArrayList<>();
        for (ResourceSpans rs : request.getResourceSpansList()) {
            for (ScopeSpans ss : rs.getScopeSpansList()) {
                for (Span s : ss.getSpansList()) {
                    SpanSummary summary = summarize(s);
                    out.add(summary);
                    if (summary.peerPort >= 0 && summary.peakPendingBytes >= 0) {
                        current.connectionPeak.merge(summary.peerPort, summary.peakPendingBytes, Math::max);
                    }
                }
            }
        }
        current.spanBatches++;
        current.spans += out.size();
        return out;
    }

    static SpanSummary summarize(Span s) {
        SpanSummary r = new SpanSummary();
        List<KeyValue> a = s.getAttributesList();
        r.name = s.getName();
        r.peerPort = portOf(a);
        r.durationNanos = Math.max(0, s.getEndTimeUnixNano() - s.getStartTimeUnixNano());
        r.peakPendingBytes = longAttribute(a, "backpressure.pending.peak_bytes", -1);
        r.ignoredWrites = longAttribute(a, "backpressure.ignored.writes", 0);
        r.drainWaitSeconds = doubleAttribute(a, "backpressure.drain.wait_seconds", Double.NaN);
        r.function = attribute(a, FUNCTION, null);
        r.pendingAtEnd = longAttribute(a, "backpressure.pending.bytes", -1);
        r.error = s.getStatus().getCode() == Status.StatusCode.STATUS_CODE_ERROR;
        r.statusMessage = s.getStatus().getMessage();
        return r;
    }

    synchronized Snapshot snapshot() {
        Snapshot s = new Snapshot();
        s.metricBatches = current.metricBatches;
        s.spanBatches = current.spanBatches;
        s.spans = current.spans;
        s.lastMetricsNanos = current.lastMetricsNanos;
        s.pending = copy(current.pending);
        s.connectionPending = copy(current.connectionPending);
        s.connectionPeak = copy(current.connectionPeak);
        s.connectionShares = deepCopy(current.connectionShares);
        s.connectionSharePeak = deepCopy(current.connectionSharePeak);
        s.kernelQueued = copy(current.kernelQueued);
        s.kernelQueuedPeak = copy(current.kernelQueuedPeak);
        s.blocked = copy(current.blocked);
        s.oldestWait = copy(current.oldestWait);
        s.stalls = copy(current.stalls);
        s.ignoredWrites = copy(current.ignoredWrites);
        s.ignoredBytes = copy(current.ignoredBytes);
        s.memoryLimit = copy(current.memoryLimit);
        s.dropped = copy(current.dropped);
        s.drainWait = copy(current.drainWait);
        return s;
    }

    private static <K, L, V> Map<K, Map<L, V>> deepCopy(Map<K, Map<L, V>> m) {
        Map<K, Map<L, V>> out = new TreeMap<>();
        for (Map.Entry<K, Map<L, V>> e : m.entrySet()) {
            out.put(e.getKey(), copy(e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }

    private static <K, V> Map<K, V> copy(Map<K, V> m) {
        return Collections.unmodifiableMap(new TreeMap<>(m));
    }

    // ---------------------------------------------------------------------------------------------------------

    static DrainWaitHistogram histogram(HistogramDataPoint p) {
        double[] bounds = new double[p.getExplicitBoundsCount()];
        for (int i = 0; i < bounds.length; i++) {
            bounds[i] = p.getExplicitBounds(i);
        }
        long[] counts = new long[bounds.length + 1];
        for (int i = 0; i < counts.length && i < p.getBucketCountsCount(); i++) {
            counts[i] = p.getBucketCounts(i);
        }
        return new DrainWaitHistogram(bounds, counts, p.getCount(), p.getSum());
    }

    private static long portOf(List<KeyValue> a) {
        return longAttribute(a, PEER_PORT, -1);
    }

    static String attribute(List<KeyValue> attributes, String key, String fallback) {
        for (KeyValue kv : attributes) {
            if (kv.getKey().equals(key)) {
                AnyValue v = kv.getValue();
                switch (v.getValueCase()) {
                    case STRING_VALUE:
                        return v.getStringValue();
                    case INT_VALUE:
                        return Long.toString(v.getIntValue());
                    case DOUBLE_VALUE:
                        return Double.toString(v.getDoubleValue());
                    case BOOL_VALUE:
                        return Boolean.toString(v.getBoolValue());
                    default:
                        return fallback;
                }
            }
        }
        return fallback;
    }

    static long longAttribute(List<KeyValue> attributes, String key, long fallback) {
        for (KeyValue kv : attributes) {
            if (kv.getKey().equals(key)) {
                AnyValue v = kv.getValue();
                switch (v.getValueCase()) {
                    case INT_VALUE:
                        return v.getIntValue();
                    case DOUBLE_VALUE:
                        return (long) v.getDoubleValue();
                    case STRING_VALUE:
                        try {
                            return Long.parseLong(v.getStringValue().trim());
                        } catch (NumberFormatException e) {
                            return fallback;
                        }
                    default:
                        return fallback;
                }
            }
        }
        return fallback;
    }

    static double doubleAttribute(List<KeyValue> attributes, String key, double fallback) {
        for (KeyValue kv : attributes) {
            if (kv.getKey().equals(key)) {
                AnyValue v = kv.getValue();
                switch (v.getValueCase()) {
                    case DOUBLE_VALUE:
                        return v.getDoubleValue();
                    case INT_VALUE:
                        return v.getIntValue();
                    default:
                        return fallback;
                }
            }
        }
        return fallback;
    }

    private static long asLong(NumberDataPoint p) {
        return p.getValueCase() == NumberDataPoint.ValueCase.AS_DOUBLE ? Math.round(p.getAsDouble()) : p.getAsInt();
    }

    private static double asDouble(NumberDataPoint p) {
        return p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? p.getAsInt() : p.getAsDouble();
    }
}

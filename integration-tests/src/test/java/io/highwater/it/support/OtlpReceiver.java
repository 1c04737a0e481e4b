package io.highwater.it.support;

import com.google.protobuf.InvalidProtocolBufferException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP http/protobuf receiver: a JDK HTTP server on 127.0.0.1 at a random port that accepts
 * {@code POST /v1/metrics} and {@code POST /v1/traces} with {@code Content-Type: application/x-protobuf}
 * (optionally {@code Content-Encoding: gzip}), decodes them with the official {@code io.opentelemetry.proto}
 * classes and answers 200 with an empty {@code Export*ServiceResponse}, as a collector does.
 *
 * <p>Every request is kept in arrival order. Anything a collector would reject (wrong method, path, content type
 * or an undecodable body) is answered with a 4xx and recorded in {@link #errors()}, so tests can check that the
 * agent spoke proper OTLP.
 *
 * <p>Thread-safe: the HTTP threads add, test threads read and wait. The {@code await*} methods block on a
 * condition signalled by every new request; their timeout only guards against hanging forever.
 */
public final class OtlpReceiver implements AutoCloseable {

    /** How long an await waits before giving up; a guard against hangs, not a performance expectation. */
    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

    private final HttpServer server;
    private final ExecutorService executor;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<ExportMetricsServiceRequest> metricBatches = new ArrayList<>();
    private final List<ExportTraceServiceRequest> traceBatches = new ArrayList<>();
    private final List<MetricPoint> points = new ArrayList<>();
    private final List<ReceivedSpan> receivedSpans = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private final List<String> requestHeaders = new ArrayList<>();

    private OtlpReceiver(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static OtlpReceiver start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "otlp-receiver");
                t.setDaemon(true);
                return t;
            });
            server.setExecutor(executor);
            OtlpReceiver receiver = new OtlpReceiver(server, executor);
            server.createContext("/", receiver::handle);
            server.start();
            return receiver;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the OTLP receiver", e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The base endpoint for {@code otel.exporter.otlp.endpoint}: the exporter appends {@code /v1/metrics}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ---------------------------------------------------------------- HTTP

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            String contentType = String.valueOf(ex.getRequestHeaders().getFirst("Content-Type"));
            String encoding = ex.getRequestHeaders().getFirst("Content-Encoding");
            byte[] body;
            try (InputStream raw = ex.getRequestBody();
                 InputStream in = "gzip".equalsIgnoreCase(encoding) ? new GZIPInputStream(raw) : raw) {
                body = in.readAllBytes();
            } catch (IOException e) {
                reject(ex, 400, method + " " + path + ": cannot read the body (Content-Encoding " + encoding + "): "
                        + e);
                return;
            }
            lock.lock();
            try {
                requestHeaders.add(method + " " + path + " " + ex.getRequestHeaders().entrySet().stream()
                        .filter(e -> !e.getKey().equalsIgnoreCase("Authorization"))
                        .map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining(", ")));
            } finally {
                lock.unlock();
            }
            if (!method.equals("POST")) {
                reject(ex, 405, method + " " + path + ": only POST is OTLP");
                return;
            }
            if (!path.equals("/v1/metrics") && !path.equals("/v1/traces")) {
                reject(ex, 404, "POST " + path + ": not an OTLP path");
                return;
            }
            if (!contentType.toLowerCase(Locale.ROOT).startsWith("application/x-protobuf")) {
                reject(ex, 415, "POST " + path + ": Content-Type " + contentType + " is not application/x-protobuf");
                return;
            }
            if (encoding != null && !encoding.equalsIgnoreCase("gzip") && !encoding.equalsIgnoreCase("identity")) {
                reject(ex, 415, "POST " + path + ": unsupported Content-Encoding " + encoding);
                return;
            }
            byte[] response;
            try {
                if (path.equals("/v1/metrics")) {
                    addMetrics(ExportMetricsServiceRequest.parseFrom(body));
                    response = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
                } else {
                    addTraces(ExportTraceServiceRequest.parseFrom(body));
                    response = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                }
            } catch (InvalidProtocolBufferException e) {
                reject(ex, 400, "POST " + path + ": body is not a valid OTLP protobuf message: " + e.getMessage());
                return;
            }
            ex.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            // an empty message encodes to zero bytes; -1 tells the JDK server "no body" (Content-Length: 0)
            ex.sendResponseHeaders(200, response.length == 0 ? -1 : response.length);
            if (response.length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(response);
                }
            }
        }
    }

    private void reject(HttpExchange ex, int status, String why) throws IOException {
        lock.lock();
        try {
            errors.add(why);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        byte[] msg = why.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, msg.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(msg);
        }
    }

    private void addMetrics(ExportMetricsServiceRequest request) {
        lock.lock();
        try {
            int batch = metricBatches.size();
            metricBatches.add(request);
            points.addAll(flatten(batch, request));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void addTraces(ExportTraceServiceRequest request) {
        lock.lock();
        try {
            int batch = traceBatches.size();
            traceBatches.add(request);
            for (ResourceSpans rs : request.getResourceSpansList()) {
                Map<String, Object> resource = MetricPoint.toMap(rs.getResource().getAttributesList());
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                    for (Span span : ss.getSpansList()) {
                        receivedSpans.add(ReceivedSpan.of(batch, resource, ss.getScope().getName(),
                                ss.getScope().getVersion(), span));
                    }
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    static List<MetricPoint> flatten(int batch, ExportMetricsServiceRequest request) {
        List<MetricPoint> out = new ArrayList<>();
        for (ResourceMetrics rm : request.getResourceMetricsList()) {
            Map<String, Object> resource = MetricPoint.toMap(rm.getResource().getAttributesList());
            for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                String scope = sm.getScope().getName();
                String scopeVersion = sm.getScope().getVersion();
                for (Metric m : sm.getMetricsList()) {
                    switch (m.getDataCase()) {
                        case GAUGE:
                            for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
                                out.add(point(batch, resource, scope, scopeVersion, m, MetricPoint.Kind.GAUGE, false,
                                        AggregationTemporality.AGGREGATION_TEMPORALITY_UNSPECIFIED, p));
                            }
                            break;
                        case SUM:
                            for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                                out.add(point(batch, resource, scope, scopeVersion, m, MetricPoint.Kind.SUM,
                                        m.getSum().getIsMonotonic(), m.getSum().getAggregationTemporality(), p));
                            }
                            break;
                        case HISTOGRAM:
                            for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
                                out.add(new MetricPoint(batch, resource, scope, scopeVersion, m.getName(), m.getUnit(),
                                        MetricPoint.Kind.HISTOGRAM, false, m.getHistogram().getAggregationTemporality(),
                                        MetricPoint.toMap(p.getAttributesList()), p.getCount(), p.getTimeUnixNano(),
                                        p.hasSum() ? p.getSum() : null));
                            }
                            break;
                        case EXPONENTIAL_HISTOGRAM:
                            for (ExponentialHistogramDataPoint p
                                    : m.getExponentialHistogram().getDataPointsList()) {
                                out.add(new MetricPoint(batch, resource, scope, scopeVersion, m.getName(), m.getUnit(),
                                        MetricPoint.Kind.EXPONENTIAL_HISTOGRAM, false,
                                        m.getExponentialHistogram().getAggregationTemporality(),
                                        MetricPoint.toMap(p.getAttributesList()), p.getCount(), p.getTimeUnixNano(),
                                        p.hasSum() ? p.getSum() : null));
                            }
                            break;
                        case SUMMARY:
                            for (SummaryDataPoint p : m.getSummary().getDataPointsList()) {
                                out.add(new MetricPoint(batch, resource, scope, scopeVersion, m.getName(), m.getUnit(),
                                        MetricPoint.Kind.SUMMARY, false,
                                        AggregationTemporality.AGGREGATION_TEMPORALITY_UNSPECIFIED,
                                        MetricPoint.toMap(p.getAttributesList()), p.getCount(), p.getTimeUnixNano(),
                                        p.getSum()));
                            }
                            break;
                        default:
                            out.add(new MetricPoint(batch, resource, scope, scopeVersion, m.getName(), m.getUnit(),
                                    MetricPoint.Kind.NONE, false,
                                    AggregationTemporality.AGGREGATION_TEMPORALITY_UNSPECIFIED, Map.of(), null, 0, null));
                    }
                }
            }
        }
        return out;
    }

    private static MetricPoint point(int batch, Map<String, Object> resource, String scope, String scopeVersion,
                                     Metric m, MetricPoint.Kind kind, boolean monotonic,
                                     AggregationTemporality temporality, NumberDataPoint p) {
        Number value;
        switch (p.getValueCase()) {
            case AS_INT:
                value = p.getAsInt();
                break;
            case AS_DOUBLE:
                value = p.getAsDouble();
                break;
            default:
                value = null;
        }
        return new MetricPoint(batch, resource, scope, scopeVersion, m.getName(), m.getUnit(), kind, monotonic,
                temporality, MetricPoint.toMap(p.getAttributesList()), value, p.getTimeUnixNano(), null);
    }

    // ---------------------------------------------------------------- snapshots

    /** Every metric export request received so far, in order. */
    public List<ExportMetricsServiceRequest> metricBatches() {
        lock.lock();
        try {
            return List.copyOf(metricBatches);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The number of the first metric batch that was surely collected after this call, for {@code fromBatch}: the next
     * batch to arrive may be in flight, collected before (the export is asynchronous, and slower on a loaded machine),
     * the one after it is not.
     */
    public int firstBatchCollectedFromNow() {
        return metricBatchCount() + 2;
    }

    public int metricBatchCount() {
        lock.lock();
        try {
            return metricBatches.size();
        } finally {
            lock.unlock();
        }
    }

    /** Every trace export request received so far, in order. */
    public List<ExportTraceServiceRequest> traceBatches() {
        lock.lock();
        try {
            return List.copyOf(traceBatches);
        } finally {
            lock.unlock();
        }
    }

    /** All spans received so far, in order, with their resource and scope. */
    public List<ReceivedSpan> spans() {
        lock.lock();
        try {
            return List.copyOf(receivedSpans);
        } finally {
            lock.unlock();
        }
    }

    /** The spans received so far that pass {@code filter}. */
    public List<ReceivedSpan> spans(Predicate<ReceivedSpan> filter) {
        return spans().stream().filter(filter).collect(Collectors.toList());
    }

    /** The points of one metric that came in one batch. */
    public List<MetricPoint> pointsInBatch(String metric, int batch) {
        return points().stream().filter(p -> p.batch() == batch && p.metric().equals(metric))
                .collect(Collectors.toList());
    }

    /** Requests that a collector would have refused, with the reason; a well-behaved exporter leaves it empty. */
    public List<String> errors() {
        lock.lock();
        try {
            return List.copyOf(errors);
        } finally {
            lock.unlock();
        }
    }

    /** Method, path and headers of every request received, for diagnostics. */
    public List<String> requests() {
        lock.lock();
        try {
            return List.copyOf(requestHeaders);
        } finally {
            lock.unlock();
        }
    }

    /** Every metric data point received so far, in arrival order. */
    public List<MetricPoint> points() {
        lock.lock();
        try {
            return List.copyOf(points);
        } finally {
            lock.unlock();
        }
    }

    public List<MetricPoint> points(String metric) {
        return points().stream().filter(p -> p.metric().equals(metric)).collect(Collectors.toList());
    }

    /** Names of all metrics received so far. */
    public List<String> metricNames() {
        return points().stream().map(MetricPoint::metric).distinct().sorted().collect(Collectors.toList());
    }

    /**
     * All data points of a counter, after checking that every one of them is what an OpenTelemetry counter
     * exports: a monotonic, cumulative Sum with an integer value.
     */
    public List<MetricPoint> counterPoints(String metric) {
        List<MetricPoint> ps = points(metric);
        for (MetricPoint p : ps) {
            if (p.kind() != MetricPoint.Kind.SUM || !p.monotonic()
                    || p.temporality() != AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE || !p.isInt()) {
                throw new AssertionError(metric + " must be exported as a monotonic cumulative Sum of as_int points,"
                        + " but got " + p);
            }
        }
        return ps;
    }

    /** All data points of a gauge across all batches, after checking that each is an OTLP Gauge with a value. */
    public List<MetricPoint> gaugePoints(String metric) {
        List<MetricPoint> ps = points(metric);
        for (MetricPoint p : ps) {
            if (p.kind() != MetricPoint.Kind.GAUGE || p.value() == null) {
                throw new AssertionError(metric + " must be exported as a Gauge with as_int or as_double values,"
                        + " but got " + p);
            }
        }
        return ps;
    }

    /**
     * The latest cumulative value of every series of a counter that passes {@code filter}, summed up by the value of
     * {@code groupAttribute} (series without it are grouped under {@code null}). Each series (resource, scope,
     * attributes) contributes only its newest point, as a cumulative counter must be read.
     */
    public Map<Object, Long> counterSumBy(String metric, String groupAttribute, Predicate<MetricPoint> filter) {
        Map<Object, Long> out = new TreeMap<>((a, b) -> String.valueOf(a).compareTo(String.valueOf(b)));
        for (MetricPoint p : latestPerSeries(counterPoints(metric))) {
            if (filter.test(p)) {
                out.merge(p.attr(groupAttribute), p.longValue(), Long::sum);
            }
        }
        return out;
    }

    public Map<Object, Long> counterSumBy(String metric, String groupAttribute) {
        return counterSumBy(metric, groupAttribute, p -> true);
    }

    /** The sum of the latest cumulative values of every series of a counter that passes {@code filter}. */
    public long counterTotal(String metric, Predicate<MetricPoint> filter) {
        long total = 0;
        for (MetricPoint p : latestPerSeries(counterPoints(metric))) {
            if (filter.test(p)) {
                total += p.longValue();
            }
        }
        return total;
    }

    static List<MetricPoint> latestPerSeries(List<MetricPoint> ps) {
        Map<List<Object>, MetricPoint> latest = new LinkedHashMap<>();
        for (MetricPoint p : ps) {
            latest.merge(p.seriesKey(), p, (old, neu) ->
                    neu.batch() > old.batch()
                            || (neu.batch() == old.batch() && neu.timeUnixNano() >= old.timeUnixNano()) ? neu : old);
        }
        return new ArrayList<>(latest.values());
    }

    /** The resource attributes of the newest metric batch (empty when none arrived). */
    public Map<String, Object> latestResource() {
        List<MetricPoint> ps = points();
        return ps.isEmpty() ? Map.of() : ps.get(ps.size() - 1).resource();
    }

    // ---------------------------------------------------------------- waiting

    /** Waits up to {@link #DEFAULT_WAIT} for a data point satisfying {@code condition}; see the other overload. */
    public MetricPoint awaitPoint(String description, Predicate<MetricPoint> condition) {
        return awaitPoint(description, condition, DEFAULT_WAIT);
    }

    /**
     * Returns the first data point, already received or arriving later, that satisfies {@code condition}. Waits on
     * the arrival of new batches, never polls. Fails with a summary of what did arrive when {@code guard} passes
     * first.
     */
    public MetricPoint awaitPoint(String description, Predicate<MetricPoint> condition, Duration guard) {
        long deadline = System.nanoTime() + guard.toNanos();
        lock.lock();
        try {
            int next = 0;
            while (true) {
                for (; next < points.size(); next++) {
                    MetricPoint p = points.get(next);
                    if (condition.test(p)) {
                        return p;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no data point arrived that matches: " + description
                            + " (gave up after " + guard.toSeconds() + " s)\n" + summaryLocked());
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + description, e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns the first span, already received or arriving later, that satisfies {@code condition}. Waits on the
     * arrival of new requests, never polls; {@link #DEFAULT_WAIT} only guards against hanging forever.
     */
    public ReceivedSpan awaitSpan(String description, Predicate<ReceivedSpan> condition) {
        long deadline = System.nanoTime() + DEFAULT_WAIT.toNanos();
        lock.lock();
        try {
            int next = 0;
            while (true) {
                for (; next < receivedSpans.size(); next++) {
                    ReceivedSpan s = receivedSpans.get(next);
                    if (condition.test(s)) {
                        return s;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no span arrived that matches: " + description + " (gave up after "
                            + DEFAULT_WAIT.toSeconds() + " s)\n" + summaryLocked());
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + description, e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@code condition} (which may read this receiver's snapshots) holds, testing it again whenever a
     * request arrives. {@link #DEFAULT_WAIT} only guards against hanging forever.
     */
    public void await(String description, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEFAULT_WAIT.toNanos();
        lock.lock();
        try {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("gave up waiting for " + description + " after "
                            + DEFAULT_WAIT.toSeconds() + " s\n" + summaryLocked());
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + description, e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks that no metric batch beyond the first {@code count} arrives within {@code window}. Absence cannot be
     * awaited as an event: this is deliberately a bounded wait, and the caller picks a window of several export
     * intervals. Returns at once with a failure when a batch does arrive.
     */
    public void assertNoMetricBatchesBeyond(int count, Duration window) {
        long deadline = System.nanoTime() + window.toNanos();
        lock.lock();
        try {
            while (metricBatches.size() <= count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                changed.awaitNanos(left);
            }
            throw new AssertionError("expected no metric batch beyond the first " + count + " within "
                    + window.toMillis() + " ms, but batch #" + count + " arrived\n" + summaryLocked());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while watching for metric batches", e);
        } finally {
            lock.unlock();
        }
    }

    /** Waits until at least {@code count} metric batches have arrived in total. */
    public void awaitMetricBatches(int count) {
        awaitMetricBatches(count, DEFAULT_WAIT);
    }

    public void awaitMetricBatches(int count, Duration guard) {
        long deadline = System.nanoTime() + guard.toNanos();
        lock.lock();
        try {
            while (metricBatches.size() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("expected at least " + count + " metric batches, got "
                            + metricBatches.size() + " (gave up after " + guard.toSeconds() + " s)\n"
                            + summaryLocked());
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for metric batches", e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@code more} further metric batches arrive after the ones received so far. Two further batches
     * guarantee that one complete collection happened after this call.
     */
    public void awaitFurtherMetricBatches(int more) {
        awaitMetricBatches(metricBatchCount() + more);
    }

    /** A short account of everything received, for failure messages. */
    public String summary() {
        lock.lock();
        try {
            return summaryLocked();
        } finally {
            lock.unlock();
        }
    }

    private String summaryLocked() {
        StringBuilder sb = new StringBuilder();
        sb.append("OTLP receiver on port ").append(port()).append(": ").append(metricBatches.size())
                .append(" metric batches, ").append(traceBatches.size()).append(" trace batches, ")
                .append(points.size()).append(" data points");
        if (!errors.isEmpty()) {
            sb.append("\n  rejected requests: ").append(errors);
        }
        Map<String, List<MetricPoint>> byMetric = new TreeMap<>();
        for (MetricPoint p : points) {
            byMetric.computeIfAbsent(p.metric(), k -> new ArrayList<>()).add(p);
        }
        for (Map.Entry<String, List<MetricPoint>> e : byMetric.entrySet()) {
            List<MetricPoint> ps = e.getValue();
            sb.append("\n  ").append(e.getKey()).append(": ").append(ps.size()).append(" points; latest per series:");
            List<MetricPoint> latest = latestPerSeries(ps);
            for (MetricPoint p : latest.subList(Math.max(0, latest.size() - 8), latest.size())) {
                sb.append("\n    ").append(p);
            }
        }
        if (!receivedSpans.isEmpty()) {
            sb.append("\n  spans: ").append(receivedSpans.size()).append("; latest:");
            for (ReceivedSpan s : receivedSpans.subList(Math.max(0, receivedSpans.size() - 8), receivedSpans.size())) {
                sb.append("\n    ").append(s);
            }
        }
        return sb.toString();
    }
}

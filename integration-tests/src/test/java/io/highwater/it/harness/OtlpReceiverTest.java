package io.highwater.it.harness;

import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.highwater.it.support.ReceivedSpan;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The receiver itself, fed with hand-made OTLP requests over real HTTP. */
class OtlpReceiverTest {

    private final HttpClient http = HttpClient.newHttpClient();
    private OtlpReceiver receiver;

    @BeforeEach
    void start() {
        receiver = OtlpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    @Test
    void decodesPlainAndGzipMetricBatchesAndReadsCountersAsCumulative() throws Exception {
        HttpResponse<byte[]> first = post("/v1/metrics", metrics(7, 3, 1024.0).toByteArray(), false);
        HttpResponse<byte[]> second = post("/v1/metrics", metrics(10, 5, 2048.5).toByteArray(), true);

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).isEmpty(); // an empty ExportMetricsServiceResponse
        assertThat(second.headers().firstValue("Content-Type")).hasValue("application/x-protobuf");
        assertThat(receiver.errors()).isEmpty();
        assertThat(receiver.metricBatchCount()).isEqualTo(2);

        // latest cumulative value per series, summed by attribute: not the sum over batches
        assertThat(receiver.counterSumBy("c.writes", "fn")).containsExactly(Map.entry("a", 10L), Map.entry("b", 5L));
        assertThat(receiver.counterTotal("c.writes", p -> true)).isEqualTo(15);
        assertThat(receiver.counterTotal("c.writes", p -> p.has("fn", "b"))).isEqualTo(5);

        List<MetricPoint> gauge = receiver.gaugePoints("g.pending");
        assertThat(gauge).extracting(MetricPoint::doubleValue).containsExactly(1024.0, 2048.5);
        assertThat(gauge).extracting(MetricPoint::batch).containsExactly(0, 1);
        assertThat(gauge.get(0).has("port", 4711L)).isTrue();
        assertThat(gauge.get(0).has("port", "4711")).as("attribute types are kept").isFalse();
        assertThat(gauge.get(0).scopeName()).isEqualTo("highwater");
        assertThat(gauge.get(0).unit()).isEqualTo("By");
        assertThat(receiver.latestResource()).containsEntry("service.name", "svc");
    }

    @Test
    void refusesCountersThatAreNotMonotonicCumulativeIntegerSums() throws Exception {
        Metric delta = Metric.newBuilder().setName("c.writes").setSum(Sum.newBuilder().setIsMonotonic(true)
                .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
                .addDataPoints(NumberDataPoint.newBuilder().setAsInt(1))).build();
        post("/v1/metrics", request(delta).toByteArray(), false);

        assertThatThrownBy(() -> receiver.counterPoints("c.writes")).isInstanceOf(AssertionError.class)
                .hasMessageContaining("cumulative");
        assertThatThrownBy(() -> receiver.gaugePoints("c.writes")).isInstanceOf(AssertionError.class)
                .hasMessageContaining("Gauge");
    }

    @Test
    void histogramPointsCarryCountAndSumAndAbsenceIsABoundedWait() throws Exception {
        Metric histogram = Metric.newBuilder().setName("h.wait").setUnit("s").setHistogram(Histogram.newBuilder()
                .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
                .addDataPoints(HistogramDataPoint.newBuilder().setCount(3).setSum(4.5)
                        .addAllExplicitBounds(List.of(1.0, 2.0)).addAllBucketCounts(List.of(1L, 1L, 1L)))).build();
        post("/v1/metrics", request(histogram).toByteArray(), false);
        MetricPoint p = receiver.awaitPoint("the histogram", q -> q.metric().equals("h.wait"));
        assertThat(p.kind()).isEqualTo(MetricPoint.Kind.HISTOGRAM);
        assertThat(p.longValue()).as("count").isEqualTo(3);
        assertThat(p.sum()).isEqualTo(4.5);
        assertThat(receiver.pointsInBatch("h.wait", 0)).containsExactly(p);

        receiver.assertNoMetricBatchesBeyond(1, java.time.Duration.ofMillis(50));
        CompletableFuture<Void> watching = CompletableFuture.runAsync(() ->
                receiver.assertNoMetricBatchesBeyond(1, java.time.Duration.ofSeconds(30)));
        post("/v1/metrics", request(histogram).toByteArray(), false);
        assertThatThrownBy(watching::join).hasCauseInstanceOf(AssertionError.class);
    }

    @Test
    void awaitReturnsAPointThatArrivesLater() throws Exception {
        CompletableFuture<MetricPoint> waiting = CompletableFuture.supplyAsync(() ->
                receiver.awaitPoint("g.pending > 2000", p -> p.metric().equals("g.pending") && p.doubleValue() > 2000));
        post("/v1/metrics", metrics(1, 1, 10).toByteArray(), false);
        post("/v1/metrics", metrics(2, 2, 3000).toByteArray(), false);

        assertThat(waiting.get().batch()).isEqualTo(1);
        receiver.awaitMetricBatches(2);
        assertThatThrownBy(() -> receiver.awaitPoint("never", p -> false, java.time.Duration.ofMillis(50)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("g.pending");
    }

    @Test
    void decodesTracesAndRejectsWhatACollectorWouldReject() throws Exception {
        ExportTraceServiceRequest traces = ExportTraceServiceRequest.newBuilder().addResourceSpans(
                ResourceSpans.newBuilder()
                        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "svc")))
                        .addScopeSpans(ScopeSpans.newBuilder()
                                .setScope(InstrumentationScope.newBuilder().setName("highwater").setVersion("1.0"))
                                .addSpans(Span.newBuilder().setName("backpressure netty")
                                        .setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(1_750_000_000L)
                                        .addAttributes(kv("network.peer.port", 4711L))
                                        .addAttributes(KeyValue.newBuilder().setKey("backpressure.drain.wait_seconds")
                                                .setValue(AnyValue.newBuilder().setDoubleValue(0.25)))
                                        .addEvents(Span.Event.newBuilder().setName("stop"))
                                        .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR)
                                                .setMessage("closed"))))).build();
        assertThat(post("/v1/traces", traces.toByteArray(), true).statusCode()).isEqualTo(200);
        assertThat(receiver.spans()).extracting(ReceivedSpan::name).containsExactly("backpressure netty");
        ReceivedSpan span = receiver.awaitSpan("the span", s -> s.has("network.peer.port", 4711L));
        assertThat(span.batch()).isZero();
        assertThat(span.resource()).containsEntry("service.name", "svc");
        assertThat(span.scopeName()).isEqualTo("highwater");
        assertThat(span.scopeVersion()).isEqualTo("1.0");
        assertThat(span.longAttr("network.peer.port")).isEqualTo(4711L);
        assertThat(span.doubleAttr("backpressure.drain.wait_seconds")).isEqualTo(0.25);
        assertThat(span.statusCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(span.durationNanos()).isEqualTo(750_000_000L);
        assertThat(span.eventNames()).containsExactly("stop");
        assertThatThrownBy(() -> span.longAttr("backpressure.drain.wait_seconds")).isInstanceOf(AssertionError.class);

        HttpResponse<byte[]> json = http.send(HttpRequest.newBuilder(URI.create(receiver.endpoint() + "/v1/metrics"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(json.statusCode()).isEqualTo(415);
        assertThat(post("/v1/logs", new byte[0], false).statusCode()).isEqualTo(404);
        assertThat(post("/v1/metrics", new byte[] {(byte) 0xff, 1, 2}, false).statusCode()).isEqualTo(400);
        assertThat(receiver.errors()).hasSize(3);
        assertThat(receiver.metricBatchCount()).isZero();
    }

    private HttpResponse<byte[]> post(String path, byte[] body, boolean gzip) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(receiver.endpoint() + path))
                .header("Content-Type", "application/x-protobuf");
        if (gzip) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
                out.write(body);
            }
            body = bytes.toByteArray();
            b.header("Content-Encoding", "gzip");
        }
        return http.send(b.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static ExportMetricsServiceRequest metrics(long a, long b, double pending) {
        Metric counter = Metric.newBuilder().setName("c.writes").setUnit("{write}").setSum(Sum.newBuilder()
                .setIsMonotonic(true)
                .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
                .addDataPoints(NumberDataPoint.newBuilder().setAsInt(a).addAttributes(kv("fn", "a")))
                .addDataPoints(NumberDataPoint.newBuilder().setAsInt(b).addAttributes(kv("fn", "b")))).build();
        Metric gauge = Metric.newBuilder().setName("g.pending").setUnit("By").setGauge(Gauge.newBuilder()
                .addDataPoints(NumberDataPoint.newBuilder().setAsDouble(pending).addAttributes(KeyValue.newBuilder()
                        .setKey("port").setValue(AnyValue.newBuilder().setIntValue(4711))))).build();
        return request(counter, gauge);
    }

    private static ExportMetricsServiceRequest request(Metric... metrics) {
        ScopeMetrics.Builder scope = ScopeMetrics.newBuilder()
                .setScope(InstrumentationScope.newBuilder().setName("highwater").setVersion("test"));
        for (Metric m : metrics) {
            scope.addMetrics(m);
        }
        return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
                .setResource(Resource.newBuilder().addAttributes(kv("service.name", "svc")))
                .addScopeMetrics(scope)).build();
    }

    private static KeyValue kv(String k, String v) {
        return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
    }

    private static KeyValue kv(String k, long v) {
        return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setIntValue(v)).build();
    }
}

package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.sun.net.httpserver.HttpServer;
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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The embedded receiver against requests built with the official OTLP classes, shaped like the agent's: decoded
 * values, quantiles from the exported buckets, span summaries, gzip, and the unchanged forwarding to a collector.
 */
class OtlpReceiverTest {
    static final List<Double> BOUNDS = Arrays.asList(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0);

    @Test
    void decodesTheMetricContractAndEstimatesDrainWaitQuantiles() throws Exception {
        List<List<AgentTelemetry.SpanSummary>> spans = new CopyOnWriteArrayList<>();
        List<String> log = new CopyOnWriteArrayList<>();
        AgentTelemetry telemetry = new AgentTelemetry();
        try (OtlpReceiver receiver = OtlpReceiver.start(telemetry, spans::add, null, log::add)) {
            assertThat(post(receiver.port(), "/v1/metrics", gzip(metrics(1_000, 3).toByteArray()), "gzip"))
                    .isEqualTo(200);
            // a second batch: cumulative counters replace, the connection that left the top N is gone
            assertThat(post(receiver.port(), "/v1/metrics", metrics(2_000, 5).toByteArray(), null)).isEqualTo(200);
        }
        AgentTelemetry.Snapshot s = telemetry.snapshot();
        assertThat(s.metricBatches).isEqualTo(2);
        assertThat(s.pending).containsEntry("netty", 85L << 20);
        assertThat(s.connectionPending).containsOnlyKeys(50542L).containsEntry(50542L, 85L << 20);
        // the peak of a connection is kept across batches: 56884 was in the first batch only
        assertThat(s.connectionPeak).containsEntry(56884L, 65_900L).containsEntry(50542L, 85L << 20);
        // the kernel's send queue: the latest batch's top N only, the peak across batches
        assertThat(s.kernelQueued).containsOnlyKeys(50542L).containsEntry(50542L, 2_411_725L);
        assertThat(s.kernelQueuedPeak).containsEntry(56884L, 3L << 20).containsEntry(50542L, 2_411_725L);
        assertThat(s.blocked).containsEntry("netty", 1L);
        assertThat(s.oldestWait.get("netty")).isCloseTo(2.5, within(1e-9));
        assertThat(s.stalls).containsEntry("netty", 0L);
        assertThat(s.ignoredWrites)
                .containsEntry("io.highwater.demo.NettyExport.writeRowsIgnoringBackpressure", 2_000L);
        assertThat(s.totalIgnoredWrites()).isEqualTo(2_000L);
        assertThat(s.ignoredBytes).containsEntry("netty", 2_000L * 16_384);
        assertThat(s.memoryLimit).containsEntry("direct", 128L << 20).containsEntry("heap", 256L << 20);
        assertThat(s.dropped).containsEntry("span_event", 5L);

        DrainWaitHistogram h = s.drainWait.get("netty");
        assertThat(h.count).isEqualTo(100);
        // 50 waits in (0.5 ms..1 ms] → bucket 0 (≤1 ms), 40 in (1, 2.5] s, 10 in (2.5, 5] s
        assertThat(h.quantile(0.5)).isCloseTo(0.001, within(1e-12));
        assertThat(h.quantile(0.9)).isCloseTo(2.5, within(1e-12));
        assertThat(h.quantile(0.75)).isCloseTo(1.0 + 1.5 * 25 / 40, within(1e-12));
        assertThat(h.quantile(0.99)).isCloseTo(2.5 + 2.5 * 9 / 10, within(1e-12));
        assertThat(LiveView.quantiles(h)).isEqualTo("p50 1 ms, p90 2.50 s, p99 4.75 s (100 ended waits)");
        assertThat(log).isEmpty();
    }

    @Test
    void decodesTheSocketLayerWithTheKernelSendQueueBesideThePendingBytes() {
        AgentTelemetry telemetry = new AgentTelemetry();
        telemetry.accept(socketMetrics(), 1);
        AgentTelemetry.Snapshot s = telemetry.snapshot();
        assertThat(s.pending).containsEntry("socket", 16_384L);
        assertThat(s.connectionPending).containsExactly(java.util.Map.entry(52210L, 16_384L));
        assertThat(s.kernelQueued).containsExactly(java.util.Map.entry(52210L, 2_411_725L));
        assertThat(s.blocked).containsEntry("socket", 1L);
        assertThat(LiveView.quantiles(s.drainWait.get("socket"))).endsWith("(2 ended waits)");

        // the next batch without that connection: it left the top N, its peak stays
        telemetry.accept(servletMetrics(), 2);
        s = telemetry.snapshot();
        assertThat(s.kernelQueued).containsOnlyKeys(51908L);
        assertThat(s.kernelQueuedPeak).containsEntry(52210L, 2_411_725L).containsEntry(51908L, 1L << 20);
    }

    @Test
    void deltaTemporalityIsAddedUp() {
        AgentTelemetry telemetry = new AgentTelemetry();
        telemetry.accept(request(sum("backpressure.ignored.writes", 10, AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
                attr("code.function.name", "a.B.c"), attr("backpressure.layer", "netty"))), 1);
        telemetry.accept(request(sum("backpressure.ignored.writes", 7, AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
                attr("code.function.name", "a.B.c"), attr("backpressure.layer", "netty"))), 2);
        assertThat(telemetry.snapshot().ignoredWrites).containsEntry("a.B.c", 17L);
    }

    @Test
    void summarizesEpisodeSpans() throws Exception {
        List<AgentTelemetry.SpanSummary> received = new CopyOnWriteArrayList<>();
        AgentTelemetry telemetry = new AgentTelemetry();
        try (OtlpReceiver receiver = OtlpReceiver.start(telemetry, received::addAll, null, l -> { })) {
            assertThat(post(receiver.port(), "/v1/traces", gzip(spans().toByteArray()), "gzip")).isEqualTo(200);
        }
        assertThat(received).hasSize(1);
        AgentTelemetry.SpanSummary s = received.get(0);
        assertThat(s.name).isEqualTo("backpressure netty");
        assertThat(s.peerPort).isEqualTo(50542);
        assertThat(s.durationNanos).isEqualTo(4_700_000_000L);
        assertThat(s.peakPendingBytes).isEqualTo(128L << 20);
        assertThat(s.ignoredWrites).isEqualTo(8_346);
        assertThat(s.error).isTrue();
        assertThat(telemetry.snapshot().connectionPeak).containsEntry(50542L, 128L << 20);
        assertThat(telemetry.snapshot().spans).isEqualTo(1);

        LiveView.EndpointMap endpoints = new LiveView.EndpointMap();
        endpoints.assign(50542, "/export/ignoring");
        assertThat(LiveView.spanLine(s, endpoints.endpointOf(s.peerPort))).isEqualTo(
                "[span] backpressure netty /export/ignoring (peer port 50542): 4.7 s, peak 128.0 MiB pending,"
                        + " 8346 ignored writes at io.highwater.demo.NettyExport.writeRowsIgnoringBackpressure,"
                        + " waited 4.65 s, status ERROR (closed with 16.1 KiB pending)");
    }

    @Test
    void forwardsEveryRequestUnchangedToTheCollector() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        List<byte[]> bodies = new CopyOnWriteArrayList<>();
        CountDownLatch two = new CountDownLatch(2);
        HttpServer collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        collector.createContext("/", ex -> {
            try (InputStream in = ex.getRequestBody()) {
                bodies.add(in.readAllBytes());
            }
            seen.add(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " "
                    + ex.getRequestHeaders().getFirst("Content-Type") + " "
                    + ex.getRequestHeaders().getFirst("Content-Encoding"));
            ex.sendResponseHeaders(200, -1);
            ex.close();
            two.countDown();
        });
        collector.start();
        List<String> log = new CopyOnWriteArrayList<>();
        byte[] gzipped = gzip(metrics(1, 1).toByteArray());
        byte[] plain = spans().toByteArray();
        try (CollectorTee tee = new CollectorTee("http://127.0.0.1:" + collector.getAddress().getPort(), log::add);
             OtlpReceiver receiver = OtlpReceiver.start(new AgentTelemetry(), l -> { }, tee, log::add)) {
            post(receiver.port(), "/v1/metrics", gzipped, "gzip");
            post(receiver.port(), "/v1/traces", plain, null);
            assertThat(two.await(10, TimeUnit.SECONDS)).isTrue();
            tee.drain(2000);
            assertThat(tee.forwarded.get()).isEqualTo(2);
        } finally {
            collector.stop(0);
        }
        assertThat(seen).containsExactlyInAnyOrder(
                "POST /v1/metrics application/x-protobuf gzip",
                "POST /v1/traces application/x-protobuf null");
        assertThat(bodies).anySatisfy(b -> assertThat(b).isEqualTo(gzipped));
        assertThat(bodies).anySatisfy(b -> assertThat(b).isEqualTo(plain));
        assertThat(log).isEmpty();
    }

    @Test
    void aCollectorThatIsGoneIsReportedOnce() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (CollectorTee tee = new CollectorTee("http://127.0.0.1:" + closedPort, log::add)) {
            for (int i = 0; i < 3; i++) {
                tee.forward("/v1/metrics", "application/x-protobuf", null, new byte[] {1});
                tee.drain(5000);
            }
            assertThat(tee.failed.get()).isEqualTo(3);
        }
        assertThat(log).hasSize(1);
        assertThat(log.get(0)).startsWith("[collector] forwarding to http://127.0.0.1:" + closedPort + "/v1/metrics"
                + " failed");
    }

    // ---------------------------------------------------------------------------------------------------------

    private static int post(int port, String path, byte[] body, String encoding) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (encoding != null) {
            r.header("Content-Encoding", encoding);
        }
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(raw);
        }
        return out.toByteArray();
    }

    static KeyValue attr(String key, String value) {
        return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
    }

    static KeyValue attr(String key, long value) {
        return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setIntValue(value)).build();
    }

    static KeyValue attr(String key, double value) {
        return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setDoubleValue(value)).build();
    }

    private static Metric gauge(String name, long value, KeyValue... attributes) {
        return Metric.newBuilder().setName(name).setGauge(Gauge.newBuilder().addDataPoints(
                NumberDataPoint.newBuilder().setAsInt(value).addAllAttributes(Arrays.asList(attributes)))).build();
    }

    private static Metric gauge(String name, double value, KeyValue... attributes) {
        return Metric.newBuilder().setName(name).setGauge(Gauge.newBuilder().addDataPoints(
                NumberDataPoint.newBuilder().setAsDouble(value).addAllAttributes(Arrays.asList(attributes)))).build();
    }

    private static Metric sum(String name, long value, AggregationTemporality temporality, KeyValue... attributes) {
        return Metric.newBuilder().setName(name).setSum(Sum.newBuilder().setIsMonotonic(true)
                .setAggregationTemporality(temporality)
                .addDataPoints(NumberDataPoint.newBuilder().setAsInt(value)
                        .addAllAttributes(Arrays.asList(attributes)))).build();
    }

    /** The cumulative drain-wait histogram of one layer: {@code counts} per bucket of {@link #BOUNDS}. */
    private static Metric drainWaits(KeyValue layer, double sum, long[] counts) {
        HistogramDataPoint.Builder h = HistogramDataPoint.newBuilder().addAttributes(layer)
                .addAllExplicitBounds(BOUNDS).setCount(Arrays.stream(counts).sum()).setSum(sum);
        for (long c : counts) {
            h.addBucketCounts(c);
        }
        return Metric.newBuilder().setName("backpressure.drain.wait").setUnit("s").setHistogram(Histogram.newBuilder()
                .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
                .addDataPoints(h)).build();
    }

    private static Metric counter(String name, long value, KeyValue... attributes) {
        return sum(name, value, AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE, attributes);
    }

    private static ExportMetricsServiceRequest request(Metric... metrics) {
        return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
                .setResource(Resource.newBuilder().addAttributes(attr("service.name", "highwater-demo")))
                .addScopeMetrics(ScopeMetrics.newBuilder()
                        .setScope(InstrumentationScope.newBuilder().setName("highwater").setVersion("test"))
                        .addAllMetrics(Arrays.asList(metrics)))).build();
    }

    /** A batch shaped like the agent's; the first one also has the respecting connection in the top N. */
    static ExportMetricsServiceRequest metrics(long ignoredWrites, long droppedEvents) {
        KeyValue netty = attr("backpressure.layer", "netty");
        List<Metric> m = new ArrayList<>();
        m.add(gauge("backpressure.pending.bytes", 85L << 20, netty));
        Metric.Builder perConnection = Metric.newBuilder().setName("backpressure.connection.pending.bytes");
        Gauge.Builder points = Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder().setAsInt(85L << 20)
                .addAllAttributes(Arrays.asList(netty, attr("network.peer.address", "127.0.0.1"),
                        attr("network.peer.port", 50542L), attr("server.port", 8080L))));
        if (ignoredWrites < 2_000) {
            points.addDataPoints(NumberDataPoint.newBuilder().setAsInt(65_900)
                    .addAllAttributes(Arrays.asList(netty, attr("network.peer.address", "127.0.0.1"),
                            attr("network.peer.port", 56884L), attr("server.port", 8080L))));
        }
        m.add(perConnection.setGauge(points).build());
        // the kernel's send queues of the same top-N connections, as the agent reads them from /proc/net/tcp
        Gauge.Builder kernel = Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder().setAsInt(2_411_725)
                .addAllAttributes(Arrays.asList(netty, attr("network.peer.address", "127.0.0.1"),
                        attr("network.peer.port", 50542L), attr("server.port", 8080L))));
        if (ignoredWrites < 2_000) {
            kernel.addDataPoints(NumberDataPoint.newBuilder().setAsInt(3L << 20)
                    .addAllAttributes(Arrays.asList(netty, attr("network.peer.address", "127.0.0.1"),
                            attr("network.peer.port", 56884L), attr("server.port", 8080L))));
        }
        m.add(Metric.newBuilder().setName("backpressure.kernel.queued.bytes").setUnit("By").setGauge(kernel).build());
        m.add(gauge("backpressure.connections.blocked", 1L, netty));
        m.add(gauge("backpressure.drain.oldest_wait", 2.5, netty));
        m.add(gauge("backpressure.memory.limit", 128L << 20, attr("backpressure.memory.kind", "direct")));
        m.add(gauge("backpressure.memory.limit", 256L << 20, attr("backpressure.memory.kind", "heap")));
        m.add(counter("backpressure.ignored.writes", ignoredWrites, netty,
                attr("backpressure.signal", "channel_unwritable"),
                attr("code.function.name", "io.highwater.demo.NettyExport.writeRowsIgnoringBackpressure")));
        m.add(counter("backpressure.ignored.bytes", ignoredWrites * 16_384, netty,
                attr("backpressure.signal", "channel_unwritable")));
        m.add(counter("backpressure.drain.stalls", 0, netty));
        m.add(counter("backpressure.agent.dropped", droppedEvents, attr("backpressure.dropped.kind", "span_event")));
        long[] counts = new long[BOUNDS.size() + 1];
        counts[0] = 50;  // ≤ 1 ms
        counts[10] = 40; // (1 s, 2.5 s]
        counts[11] = 10; // (2.5 s, 5 s]
        m.add(drainWaits(netty, 0.04 + 70 + 35, counts));
        return request(m.toArray(new Metric[0]));
    }

    /**
     * One batch of the servlet layer as the agent exports it while a blocking servlet waits for the client on peer
     * port 51908 (Tomcat holding 8 KiB for it) and an async one wrote once while not ready.
     */
    static ExportMetricsServiceRequest servletMetrics() {
        KeyValue servlet = attr("backpressure.layer", "servlet");
        List<Metric> m = new ArrayList<>();
        m.add(gauge("backpressure.pending.bytes", 8_192L, servlet));
        m.add(Metric.newBuilder().setName("backpressure.connection.pending.bytes").setGauge(Gauge.newBuilder()
                .addDataPoints(NumberDataPoint.newBuilder().setAsInt(8_192).addAllAttributes(Arrays.asList(servlet,
                        attr("network.peer.address", "127.0.0.1"), attr("network.peer.port", 51908L),
                        attr("server.port", 8081L))))).build());
        m.add(gauge("backpressure.kernel.queued.bytes", 1L << 20, servlet, attr("network.peer.address", "127.0.0.1"),
                attr("network.peer.port", 51908L), attr("server.port", 8081L)));
        m.add(gauge("backpressure.connections.blocked", 1L, servlet));
        m.add(gauge("backpressure.drain.oldest_wait", 0.8, servlet));
        m.add(gauge("backpressure.memory.limit", 128L << 20, attr("backpressure.memory.kind", "direct")));
        m.add(gauge("backpressure.memory.limit", 256L << 20, attr("backpressure.memory.kind", "heap")));
        m.add(counter("backpressure.ignored.writes", 1, servlet, attr("backpressure.signal", "output_not_ready"),
                attr("code.function.name", "io.highwater.demo.ServletExport.writeRowsIgnoringReadiness")));
        m.add(counter("backpressure.ignored.bytes", 16_384, servlet, attr("backpressure.signal", "output_not_ready")));
        m.add(counter("backpressure.drain.stalls", 0, servlet));
        long[] counts = new long[BOUNDS.size() + 1];
        counts[0] = 150; // ≤ 1 ms
        counts[6] = 21;  // (50 ms, 100 ms]
        m.add(drainWaits(servlet, 0.1 + 1.6, counts));
        return request(m.toArray(new Metric[0]));
    }

    /**
     * One batch of the socket layer while a thread of the plain-socket endpoint is blocked in {@code write()} for
     * the client on peer port 52210: the 16 KiB of the blocked call in the process, 2.3 MiB in the kernel's send
     * queue; two earlier waits ended.
     */
    static ExportMetricsServiceRequest socketMetrics() {
        KeyValue socket = attr("backpressure.layer", "socket");
        KeyValue[] connection = {socket, attr("network.peer.address", "127.0.0.1"), attr("network.peer.port", 52210L),
            attr("server.port", 8082L)};
        List<Metric> m = new ArrayList<>();
        m.add(gauge("backpressure.pending.bytes", 16_384L, socket));
        m.add(gauge("backpressure.connection.pending.bytes", 16_384L, connection));
        m.add(gauge("backpressure.kernel.queued.bytes", 2_411_725L, connection));
        m.add(gauge("backpressure.connections.blocked", 1L, socket));
        m.add(gauge("backpressure.drain.oldest_wait", 1.2, socket));
        m.add(gauge("backpressure.memory.limit", 128L << 20, attr("backpressure.memory.kind", "direct")));
        m.add(gauge("backpressure.memory.limit", 256L << 20, attr("backpressure.memory.kind", "heap")));
        m.add(counter("backpressure.drain.stalls", 0, socket));
        long[] counts = new long[BOUNDS.size() + 1];
        counts[10] = 2; // (1 s, 2.5 s]
        m.add(drainWaits(socket, 3.1, counts));
        return request(m.toArray(new Metric[0]));
    }

    static ExportTraceServiceRequest spans() {
        Span span = Span.newBuilder().setName("backpressure netty").setKind(Span.SpanKind.SPAN_KIND_INTERNAL)
                .setStartTimeUnixNano(1_000_000_000_000L).setEndTimeUnixNano(1_004_700_000_000L)
                .addAllAttributes(Arrays.asList(attr("backpressure.layer", "netty"),
                        attr("network.peer.address", "127.0.0.1"), attr("network.peer.port", 50542L),
                        attr("server.port", 8080L), attr("backpressure.pending.peak_bytes", 128L << 20),
                        attr("backpressure.ignored.writes", 8_346L),
                        attr("backpressure.drain.wait_seconds", 4.65),
                        attr("code.function.name", "io.highwater.demo.NettyExport.writeRowsIgnoringBackpressure"),
                        attr("backpressure.pending.bytes", 16_500L)))
                .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR)
                        .setMessage("connection closed with 16500 bytes still pending"))
                .build();
        return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
                .addScopeSpans(ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName("highwater"))
                        .addAllSpans(Collections.singletonList(span)))).build();
    }
}

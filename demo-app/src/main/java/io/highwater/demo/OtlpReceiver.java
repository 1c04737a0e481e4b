package io.highwater.demo;

import com.google.protobuf.InvalidProtocolBufferException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * The scenario's embedded OTLP/HTTP receiver: a JDK HTTP server on 127.0.0.1 at a random port that accepts
 * {@code POST /v1/metrics} and {@code POST /v1/traces} in http/protobuf (optionally gzip-compressed), decodes them
 * with the official {@code io.opentelemetry.proto} classes into {@link AgentTelemetry}, and answers 200 with an
 * empty export response, as a collector does.
 *
 * <p>When a {@link CollectorTee} is given, every request body is handed to it unchanged (still compressed, with its
 * path, {@code Content-Type} and {@code Content-Encoding}) before it is decoded; the tee forwards asynchronously and
 * never delays the answer to the agent.
 *
 * <p>Requests are handled one at a time on one daemon thread; {@code spans} is called on that thread.
 */
final class OtlpReceiver implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;
    private final AgentTelemetry telemetry;
    private final Consumer<List<AgentTelemetry.SpanSummary>> spans;
    private final CollectorTee tee;
    private final Consumer<String> log;
    private volatile boolean complained;

    private OtlpReceiver(HttpServer server, ExecutorService executor, AgentTelemetry telemetry,
                         Consumer<List<AgentTelemetry.SpanSummary>> spans, CollectorTee tee, Consumer<String> log) {
        this.server = server;
        this.executor = executor;
        this.telemetry = telemetry;
        this.spans = spans;
        this.tee = tee;
        this.log = log;
    }

    /**
     * Starts a receiver.
     *
     * @param spans called with the summaries of each trace request's spans
     * @param tee   where raw requests are forwarded, or null
     * @param log   where the one line about a bad request goes
     */
    static OtlpReceiver start(AgentTelemetry telemetry, Consumer<List<AgentTelemetry.SpanSummary>> spans,
                              CollectorTee tee, Consumer<String> log) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "otlp-receiver");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        OtlpReceiver receiver = new OtlpReceiver(server, executor, telemetry, spans, tee, log);
        server.createContext("/", receiver::handle);
        server.start();
        return receiver;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** The value for {@code otel.exporter.otlp.endpoint}: the exporter appends {@code /v1/metrics}. */
    String endpoint() {
        return "http://127.0.0.1:" + port();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            if (!"POST".equals(ex.getRequestMethod())) {
                answer(ex, 405, "text/plain", "only POST is OTLP\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            boolean metrics = "/v1/metrics".equals(path);
            if (!metrics && !"/v1/traces".equals(path)) {
                answer(ex, 404, "text/plain", ("no OTLP signal at " + path + "\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            String contentType = ex.getRequestHeaders().getFirst("Content-Type");
            String encoding = ex.getRequestHeaders().getFirst("Content-Encoding");
            byte[] raw;
            try (InputStream in = ex.getRequestBody()) {
                raw = in.readAllBytes();
            }
            if (tee != null) {
                tee.forward(path, contentType, encoding, raw);
            }
            if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/x-protobuf")) {
                complainOnce("the agent sent " + path + " as " + contentType
                        + ", not application/x-protobuf: this view reads http/protobuf only");
                answer(ex, 415, "text/plain", "http/protobuf only\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            byte[] body;
            try {
                body = decode(raw, encoding);
            } catch (IOException e) {
                complainOnce("cannot read an OTLP request (Content-Encoding " + encoding + "): " + e);
                answer(ex, 400, "text/plain", "bad body\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            try {
                if (metrics) {
                    telemetry.accept(ExportMetricsServiceRequest.parseFrom(body), System.nanoTime());
                    answer(ex, 200, "application/x-protobuf",
                            ExportMetricsServiceResponse.getDefaultInstance().toByteArray());
                } else {
                    List<AgentTelemetry.SpanSummary> received = telemetry.accept(ExportTraceServiceRequest.parseFrom(body));
                    answer(ex, 200, "application/x-protobuf",
                            ExportTraceServiceResponse.getDefaultInstance().toByteArray());
                    spans.accept(received);
                }
            } catch (InvalidProtocolBufferException e) {
                complainOnce("cannot decode an OTLP request to " + path + ": " + e.getMessage());
                answer(ex, 400, "text/plain", "not OTLP protobuf\n".getBytes(StandardCharsets.UTF_8));
            }
        } catch (RuntimeException e) {
            complainOnce("OTLP receiver: " + e);
            answer(ex, 500, "text/plain", new byte[0]);
        } finally {
            ex.close();
        }
    }

    /** The protobuf bytes of a request body: gunzipped when {@code Content-Encoding: gzip}. */
    static byte[] decode(byte[] raw, String encoding) throws IOException {
        if (encoding == null || encoding.isEmpty() || "identity".equalsIgnoreCase(encoding)) {
            return raw;
        }
        if (!"gzip".equalsIgnoreCase(encoding.trim())) {
            throw new IOException("unsupported Content-Encoding " + encoding);
        }
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            return in.readAllBytes();
        }
    }

    private void complainOnce(String line) {
        if (!complained) {
            complained = true;
            log.accept("[view] " + line + " (reported once)");
        }
    }

    private static void answer(HttpExchange ex, int status, String contentType, byte[] body) {
        try {
            ex.getResponseHeaders().set("Content-Type", contentType);
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        } catch (IOException ignored) {
            // the agent gave up on this request; it will send the next one
        }
    }
}

package io.highwater.telemetry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.highwater.socket.bootstrap.SocketWrites;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's sender against a real HTTP server (the JDK's), as the OTLP exporter drives it. */
class BlockingHttpSenderTest {

    private static final byte[] MESSAGE = "a metrics batch".getBytes(StandardCharsets.UTF_8);

    private HttpServer server;
    /** The status each request gets, in order; the last one repeats. */
    private volatile List<Integer> statuses = List.of(200);
    private final AtomicInteger requests = new AtomicInteger();
    private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();

    private static final class Received {
        final Map<String, List<String>> headers;
        final byte[] body;

        Received(Map<String, List<String>> headers, byte[] body) {
            this.headers = headers;
            this.body = body;
        }
    }

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/metrics", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        received.add(new Received(exchange.getRequestHeaders(), body));
        int n = requests.getAndIncrement();
        int status = statuses.get(Math.min(n, statuses.size() - 1));
        byte[] answer = ("answer " + n).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }

    private SenderConfig config() {
        return new SenderConfig("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/metrics");
    }

    private static HttpResponse send(SenderConfig config) {
        BlockingHttpSender sender = new BlockingHttpSender(config);
        try {
            return startSend(sender).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            sender.shutdown();
        }
    }

    /** Sends {@link #MESSAGE} as the exporter does: the answer or the error arrive through the callbacks. */
    private static CompletableFuture<HttpResponse> startSend(BlockingHttpSender sender) {
        CompletableFuture<HttpResponse> response = new CompletableFuture<>();
        sender.send(new MessageWriter() {
            @Override
            public void writeMessage(OutputStream out) throws IOException {
                out.write(MESSAGE);
            }

            @Override
            public int getContentLength() {
                return MESSAGE.length;
            }
        }, response::complete, response::completeExceptionally);
        return response;
    }

    private static RetryPolicy quickRetries(int attempts) {
        return RetryPolicy.builder().setMaxAttempts(attempts).setInitialBackoff(Duration.ofMillis(5))
                .setMaxBackoff(Duration.ofMillis(10)).build();
    }

    @Test
    void postsTheMessageWithItsHeadersAndReturnsTheAnswer() {
        SenderConfig config = config();
        config.headers = Map.of("Authorization", List.of("Bearer 123"));
        HttpResponse response = send(config);
        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(new String(response.getResponseBody(), StandardCharsets.UTF_8)).isEqualTo("answer 0");
        Received r = received.remove();
        assertThat(r.body).isEqualTo(MESSAGE);
        assertThat(r.headers.get("Content-type")).containsExactly("application/x-protobuf");
        assertThat(r.headers.get("Authorization")).containsExactly("Bearer 123");
        assertThat(r.headers.get("Content-length")).containsExactly(String.valueOf(MESSAGE.length));
        assertThat(r.headers.get("Connection")).containsExactly("close");
    }

    @Test
    void compressesWhenConfigured() throws IOException {
        SenderConfig config = config();
        config.compressor = new Compressor() {
            @Override
            public String getEncoding() {
                return "gzip";
            }

            @Override
            public OutputStream compress(OutputStream out) throws IOException {
                return new GZIPOutputStream(out);
            }
        };
        assertThat(send(config).getStatusCode()).isEqualTo(200);
        Received r = received.remove();
        assertThat(r.headers.get("Content-encoding")).containsExactly("gzip");
        try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(r.body))) {
            assertThat(in.readAllBytes()).isEqualTo(MESSAGE);
        }
    }

    @Test
    void retriesWhatTheCollectorAsksToBeRetried() {
        statuses = List.of(503, 429, 200);
        SenderConfig config = config();
        config.retry = quickRetries(5);
        assertThat(send(config).getStatusCode()).isEqualTo(200);
        assertThat(requests.get()).isEqualTo(3);
    }

    @Test
    void givesUpAfterTheLastAttemptAndNeverRetriesAClientError() {
        statuses = List.of(503);
        SenderConfig retried = config();
        retried.retry = quickRetries(2);
        HttpResponse last = send(retried);
        assertThat(last.getStatusCode()).isEqualTo(503);
        assertThat(new String(last.getResponseBody(), StandardCharsets.UTF_8)).isEqualTo("answer 1");
        assertThat(requests.get()).isEqualTo(2);

        statuses = List.of(400);
        requests.set(0);
        assertThat(send(retried).getStatusCode()).isEqualTo(400);
        assertThat(requests.get()).isEqualTo(1);
    }

    @Test
    void aResponseBodyIsKeptUpToTheLimit() {
        SenderConfig config = config();
        config.maxResponseBodySize = 3;
        assertThat(send(config).getResponseBody()).isEqualTo("ans".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anUnreachableCollectorIsAnErrorAfterTheRetries() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        SenderConfig config = new SenderConfig("http://127.0.0.1:" + closedPort + "/v1/metrics");
        config.retry = quickRetries(2);
        BlockingHttpSender sender = new BlockingHttpSender(config);
        CompletableFuture<HttpResponse> response = startSend(sender);
        assertThat(response).failsWithin(30, TimeUnit.SECONDS).withThrowableOfType(Exception.class)
                .withRootCauseInstanceOf(java.net.ConnectException.class);
        sender.shutdown();
    }

    @Test
    void anExemptThreadsSocketWritesTakeNoSlot() {
        boolean wasActive = SocketWrites.active;
        SocketWrites.active = true;
        try {
            assertThat(SocketWrites.exemptThisThread()).isTrue();
            assertThat(SocketWrites.begin(this, 10)).as("a write while exempt").isNull();
            SocketWrites.endExemption();
            Object slot = SocketWrites.begin(this, 10);
            assertThat(slot).as("a write after the exemption").isNotNull();
            SocketWrites.end(slot, false);
        } finally {
            SocketWrites.active = wasActive;
        }
    }
}

package io.highwater.telemetry;

import io.highwater.base.AgentTimer;
import com.sun.net.httpserver.HttpServer;
import io.highwater.core.DropKind;
import io.highwater.core.Dropped;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How the agent's sender reports to {@link ExportStatus}: at the failed attempt (not after the retries), by kind,
 * counting each export that did not get through; and that an export always completes, also when the collector
 * hangs or the exporter's callback runs out of memory. Against real sockets: a JDK HTTP server, a socket that
 * accepts and never answers, one that never reads.
 */
class BlockingHttpSenderHealthTest {

    private static final byte[] MESSAGE = "a metrics batch".getBytes(StandardCharsets.UTF_8);

    private final Dropped dropped = new Dropped();
    private final MemoryReserve reserve = new MemoryReserve(64L * 1024 * 1024);
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private ExportStatus status = new ExportStatus(dropped, reserve, System::currentTimeMillis, lines::add);

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    /** A socket that accepts connections and never answers (nor closes them), counting them. */
    private static final class Hanging implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger accepted = new AtomicInteger();
        final List<Socket> held = new CopyOnWriteArrayList<>();
        final Thread acceptor;

        Hanging(int receiveBuffer) throws IOException {
            server = new ServerSocket();
            if (receiveBuffer > 0) {
                server.setReceiveBufferSize(receiveBuffer);
            }
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = server.accept();
                        held.add(s);
                        accepted.incrementAndGet();
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            }, "hanging-collector");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + server.getLocalPort() + "/v1/metrics";
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }

    private HttpServer answering(int... statuses) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger n = new AtomicInteger();
        server.createContext("/v1/metrics", exchange -> {
            exchange.getRequestBody().readAllBytes();
            int i = n.getAndIncrement();
            int code = statuses[Math.min(i, statuses.length - 1)];
            byte[] answer = ("answer " + i).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(code, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        server.start();
        closing.add(() -> server.stop(0));
        return server;
    }

    private BlockingHttpSender sender(SenderConfig config) {
        BlockingHttpSender sender = new BlockingHttpSender(config, status);
        closing.add(sender::shutdown);
        return sender;
    }

    private static RetryPolicy quickRetries(int attempts) {
        return RetryPolicy.builder().setMaxAttempts(attempts).setInitialBackoff(Duration.ofMillis(5))
                .setMaxBackoff(Duration.ofMillis(10)).build();
    }

    private static MessageWriter message(byte[] bytes) {
        return new MessageWriter() {
            @Override
            public void writeMessage(OutputStream out) throws IOException {
                out.write(bytes);
            }

            @Override
            public int getContentLength() {
                return bytes.length;
            }
        };
    }

    /** The outcome as the exporter sees it: the answer, or the error, through the callbacks. */
    private static CompletableFuture<HttpResponse> send(BlockingHttpSender sender, byte[] body) {
        CompletableFuture<HttpResponse> outcome = new CompletableFuture<>();
        sender.send(message(body), outcome::complete, outcome::completeExceptionally);
        return outcome;
    }

    @Test
    void aHangingCollectorIsSaidAtTheFirstTimedOutAttemptNotAfterTheRetries() throws Exception {
        Hanging collector = new Hanging(0);
        closing.add(collector);
        List<Integer> acceptedWhenSaid = new CopyOnWriteArrayList<>();
        status = new ExportStatus(dropped, reserve, System::currentTimeMillis, line -> {
            acceptedWhenSaid.add(collector.accepted.get());
            lines.add(line);
        });
        SenderConfig config = new SenderConfig(collector.endpoint());
        config.timeout = Duration.ofMillis(200);
        config.retry = quickRetries(3);

        CompletableFuture<HttpResponse> outcome = send(sender(config), MESSAGE);
        assertThatThrownBy(outcome::join).as("the export completes: with an error")
                .hasRootCauseInstanceOf(SocketTimeoutException.class);

        assertThat(collector.accepted).as("attempts the collector saw").hasValue(3);
        assertThat(lines).as("lines about the failure").hasSize(1);
        assertThat(acceptedWhenSaid).as("connections the collector had accepted when the line was said")
                .containsExactly(1);
        assertThat(lines.get(0)).contains("export failed to " + collector.endpoint())
                .contains("no answer within 200ms (otel.exporter.otlp.timeout")
                .contains("SocketTimeoutException");
        assertThat(status.describe()).contains("failed: timeout 3; dropped 1");
        assertThat(dropped.get(DropKind.EXPORT)).isEqualTo(1);
    }

    @Test
    void anHttpErrorIsSaidWithItsStatusAndARecoveryOnceMore() throws Exception {
        HttpServer server = answering(500, 400, 200);
        SenderConfig config = new SenderConfig("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/metrics");
        BlockingHttpSender sender = sender(config);

        assertThat(send(sender, MESSAGE).join().getStatusCode()).isEqualTo(500);
        assertThat(send(sender, MESSAGE).join().getStatusCode()).isEqualTo(400);
        assertThat(send(sender, MESSAGE).join().getStatusCode()).isEqualTo(200);

        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains("HTTP 500 Internal Server Error");
        assertThat(lines.get(1)).contains("HTTP 400 Bad Request");
        assertThat(lines.get(2)).contains("export recovered").contains("2 export(s) did not reach it");
        assertThat(dropped.get(DropKind.EXPORT)).isEqualTo(2);
        assertThat(status.failing()).isFalse();
    }

    @Test
    void aRefusedConnectionIsSaidOnceForAllItsAttemptsAndExports() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        SenderConfig config = new SenderConfig("http://127.0.0.1:" + closedPort + "/v1/metrics");
        config.retry = quickRetries(2);
        BlockingHttpSender sender = sender(config);
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(send(sender, MESSAGE)::join).hasRootCauseInstanceOf(ConnectException.class);
        }
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("connection refused (ConnectException: Connection refused)");
        assertThat(status.describe()).contains("failed: refused 6; dropped 3");
    }

    @Test
    void aCollectorThatStopsReadingIsCutOffAfterItsTimeouts() throws Exception {
        Hanging collector = new Hanging(4096);
        closing.add(collector);
        AgentTimer timer = new AgentTimer("test-timer", (job, t) -> { });
        timer.start();
        closing.add(() -> timer.stop(1000));
        status.timer(timer);
        SenderConfig config = new SenderConfig(collector.endpoint());
        config.timeout = Duration.ofMillis(200);
        config.connectTimeout = Duration.ofMillis(200);
        // far more than the socket buffers take: the write blocks, and a blocking write has no timeout of its own
        byte[] large = new byte[32 * 1024 * 1024];
        Arrays.fill(large, (byte) 'x');

        CompletableFuture<HttpResponse> outcome = send(sender(config), large);
        // without the watchdog the write would block for good and this would never return
        assertThatThrownBy(outcome::join).hasRootCauseInstanceOf(IOException.class);
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("the collector did not take the request within 1400ms").contains("cut off");
    }

    @Test
    void theOutcomeReachesAnExporterWhoseCallbackRanOutOfMemory() throws Exception {
        HttpServer server = answering(200);
        SenderConfig config = new SenderConfig("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/metrics");
        reserve.take();
        AtomicInteger calls = new AtomicInteger();
        CompletableFuture<HttpResponse> outcome = new CompletableFuture<>();
        sender(config).send(message(MESSAGE), response -> {
            if (calls.incrementAndGet() < 3) {
                throw new OutOfMemoryError("Java heap space");
            }
            outcome.complete(response);
        }, outcome::completeExceptionally);

        assertThat(outcome.join().getStatusCode()).isEqualTo(200);
        assertThat(calls).hasValue(3);
        assertThat(reserve.crisis()).as("the reserve went, to give the callback room").isTrue();
    }

    @Test
    void theRequestBufferIsAllocatedWithTheSenderAndKept() throws Exception {
        HttpServer server = answering(200);
        SenderConfig config = new SenderConfig("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/metrics");
        BlockingHttpSender sender = sender(config);
        java.lang.reflect.Field f = BlockingHttpSender.class.getDeclaredField("body");
        f.setAccessible(true);
        BlockingHttpSender.Body body = (BlockingHttpSender.Body) f.get(sender);
        byte[] before = body.array();
        assertThat(before).hasSize(BlockingHttpSender.INITIAL_BUFFER);
        for (int i = 0; i < 3; i++) {
            assertThat(send(sender, MESSAGE).join().getStatusCode()).isEqualTo(200);
        }
        assertThat(body.array()).as("the same array, every export").isSameAs(before);
    }
}

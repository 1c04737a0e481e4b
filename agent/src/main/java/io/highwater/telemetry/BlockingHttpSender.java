package io.highwater.telemetry;

import io.highwater.bootstrap.SocketWrites;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.ProxyOptions;
import io.opentelemetry.sdk.common.export.RetryPolicy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URL;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The exporter's sender for plain {@code http://} endpoints: {@link HttpURLConnection}, that is a blocking
 * {@code java.net.Socket}, on one thread of the agent's own.
 *
 * <p>Not the JDK's {@code HttpClient}, which OpenTelemetry's own sender uses: it writes through non-blocking
 * {@code SocketChannel}s with gathering writes of heap buffers, and so runs the very java.base methods
 * ({@code IOUtil.write}, {@code SocketChannelImpl.write}) that a Netty NIO event loop runs on every flush with direct
 * buffers. After the agent's first export C2 recompiled {@code IOUtil.write} for both kinds of buffer, and the
 * host's event loop ran the slower code from then on (in a profile of the streaming benchmark, 1.7 % of the
 * server's CPU samples without the agent, 2.9 % with it; BENCHMARKS.md, "Streaming"). A blocking socket writes
 * through {@code NioSocketImpl}, which no NIO transport uses, and needs no selector thread.
 *
 * <p>Semantics follow OpenTelemetry's sender: the configured timeouts, headers, compression and proxy; retries
 * with exponential backoff and jitter on 429, 502, 503 and 504 and on I/O errors, as the retry policy says; the
 * response body read up to the configured limit. One connection per export, closed after it; the host's response
 * cache is not used. While this thread exports, its socket writes are kept out of the agent's own socket layer.
 */
final class BlockingHttpSender implements HttpSender {

    private static final List<Integer> RETRYABLE_STATUS = Arrays.asList(429, 502, 503, 504);

    private final HttpSenderConfig config;
    private final URL url;
    private final Proxy proxy;
    private final ExecutorService executor;

    BlockingHttpSender(HttpSenderConfig config) {
        this.config = config;
        URI endpoint = config.getEndpoint();
        try {
            this.url = endpoint.toURL();
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("not an http URL: " + endpoint, e);
        }
        this.proxy = proxy(config.getProxyOptions(), endpoint);
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "highwater-export");
                    t.setDaemon(true);
                    return t;
                });
        this.executor = pool;
    }

    private static Proxy proxy(ProxyOptions options, URI endpoint) {
        if (options == null) {
            return Proxy.NO_PROXY;
        }
        List<Proxy> proxies = options.getProxySelector().select(endpoint);
        return proxies == null || proxies.isEmpty() ? Proxy.NO_PROXY : proxies.get(0);
    }

    @Override
    public void send(MessageWriter message, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
        try {
            executor.execute(() -> {
                boolean exempt = SocketWrites.exemptThisThread();
                try {
                    onResponse.accept(withRetries(message));
                } catch (Throwable t) {
                    onError.accept(t);
                } finally {
                    if (exempt) {
                        SocketWrites.endExemption();
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            onError.accept(e);
        }
    }

    private HttpResponse withRetries(MessageWriter message) throws IOException, InterruptedException {
        byte[] body = body(message);
        RetryPolicy policy = config.getRetryPolicy();
        int attempts = policy == null ? 1 : Math.max(1, policy.getMaxAttempts());
        long maxBackoff = policy == null ? 0 : policy.getMaxBackoff().toNanos();
        long backoff = policy == null ? 0 : Math.min(policy.getInitialBackoff().toNanos(), maxBackoff);
        Predicate<IOException> retryable = policy == null || policy.getRetryExceptionPredicate() == null
                // OpenTelemetry's own default: I/O errors are transient (TLS ones aside, which plain http has none of)
                ? e -> true : policy.getRetryExceptionPredicate();
        for (int attempt = 1; ; attempt++) {
            try {
                Response r = post(body);
                if (attempt == attempts || !RETRYABLE_STATUS.contains(r.status)) {
                    return r;
                }
            } catch (IOException e) {
                if (attempt == attempts || !retryable.test(e)) {
                    throw e;
                }
            }
            // a backoff, not a synchronisation: jittered as OpenTelemetry's sender does
            TimeUnit.NANOSECONDS.sleep(backoff > 0 ? ThreadLocalRandom.current().nextLong(backoff) : 0);
            backoff = Math.min((long) (backoff * policy.getBackoffMultiplier()), maxBackoff);
        }
    }

    /** The request body, compressed if so configured: a metrics batch is small, and a fixed length suits any server. */
    private byte[] body(MessageWriter message) throws IOException {
        Compressor compressor = config.getCompressor();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(Math.max(32, message.getContentLength()));
        if (compressor == null) {
            message.writeMessage(buffer);
        } else {
            try (OutputStream out = compressor.compress(buffer)) {
                message.writeMessage(out);
            }
        }
        return buffer.toByteArray();
    }

    private Response post(byte[] body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) url.openConnection(proxy);
        try {
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setUseCaches(false);
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout(millis(config.getConnectTimeout().toMillis()));
            c.setReadTimeout(millis(config.getTimeout().toMillis()));
            c.setFixedLengthStreamingMode(body.length);
            c.setRequestProperty("Content-Type", config.getContentType());
            // a connection per export (one every 10 s by default): none kept alive for the JDK's keep-alive timer
            // thread to watch, none gone stale at the collector
            c.setRequestProperty("Connection", "close");
            if (config.getCompressor() != null) {
                c.setRequestProperty("Content-Encoding", config.getCompressor().getEncoding());
            }
            Map<String, List<String>> headers = config.getHeadersSupplier() == null ? null
                    : config.getHeadersSupplier().get();
            if (headers != null) {
                headers.forEach((name, values) -> values.forEach(v -> c.addRequestProperty(name, v)));
            }
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
            int status = c.getResponseCode();
            String message = c.getResponseMessage();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            byte[] responseBody = in == null ? new byte[0] : read(in, config.getMaxResponseBodySize());
            return new Response(status, message == null ? "" : message, responseBody);
        } catch (IOException e) {
            // the socket closes now, not when the collector or the garbage collector gets round to it
            c.disconnect();
            throw e;
        }
    }

    /** Reads to the end, so that the connection can be reused, keeping at most {@code limit} bytes. */
    private static byte[] read(InputStream in, long limit) throws IOException {
        try (InputStream body = in) {
            ByteArrayOutputStream kept = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            for (int n; (n = body.read(chunk)) > 0; ) {
                int keep = (int) Math.max(0, Math.min(n, limit - kept.size()));
                kept.write(chunk, 0, keep);
            }
            return kept.toByteArray();
        }
    }

    private static int millis(long ms) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, ms));
    }

    @Override
    public CompletableResultCode shutdown() {
        executor.shutdown();
        try {
            // an idle thread ends at once; a detach expects the agent's threads gone when it returns
            executor.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return CompletableResultCode.ofSuccess();
    }

    private static final class Response implements HttpResponse {
        final int status;
        final String message;
        final byte[] body;

        Response(int status, String message, byte[] body) {
            this.status = status;
            this.message = message;
            this.body = body;
        }

        @Override
        public int getStatusCode() {
            return status;
        }

        @Override
        public String getStatusMessage() {
            return message;
        }

        @Override
        public byte[] getResponseBody() {
            return body;
        }
    }
}

package io.highwater.demo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Forwards the agent's OTLP requests, byte for byte, to an OpenTelemetry Collector, so that the same telemetry the
 * live view shows also lands in Prometheus and Grafana. Each request goes to the collector's base URL plus the
 * request's own path, with its {@code Content-Type} and {@code Content-Encoding}.
 *
 * <p>Asynchronous and bounded: {@link #forward} never blocks the caller; at most {@link #MAX_IN_FLIGHT} requests
 * are under way, more are dropped and counted. The first failure is reported in one line; the rest are counted.
 * Thread-safe.
 */
final class CollectorTee implements AutoCloseable {
    static final int MAX_IN_FLIGHT = 8;

    private final URI base;
    private final HttpClient client;
    private final ExecutorService executor;
    private final Consumer<String> log;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final AtomicBoolean reported = new AtomicBoolean();
    final AtomicLong forwarded = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();

    CollectorTee(String baseUrl, Consumer<String> log) {
        String b = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.base = URI.create(b);
        if (!"http".equalsIgnoreCase(base.getScheme()) && !"https".equalsIgnoreCase(base.getScheme())) {
            throw new IllegalArgumentException("--collector wants http://host:port, not " + baseUrl);
        }
        this.log = log;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "collector-tee");
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1) // the collector's OTLP/HTTP receiver; no h2c upgrade dance
                .connectTimeout(Duration.ofSeconds(2))
                .executor(executor)
                .build();
    }

    String base() {
        return base.toString();
    }

    /** Hands one raw OTLP request to the collector, in the background. */
    void forward(String path, String contentType, String contentEncoding, byte[] body) {
        if (!inFlight.tryAcquire()) {
            dropped.incrementAndGet();
            return;
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (contentEncoding != null) {
            request.header("Content-Encoding", contentEncoding);
        }
        CompletableFuture<HttpResponse<Void>> sent;
        try {
            sent = client.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding());
        } catch (RuntimeException e) {
            inFlight.release();
            failure(path, e.toString());
            return;
        }
        sent.whenComplete((response, error) -> {
            // count before releasing: drain() waits on the permits, and callers then read the counts
            try {
                if (error != null) {
                    failure(path, error.getCause() != null ? error.getCause().toString() : error.toString());
                } else if (response.statusCode() / 100 != 2) {
                    failure(path, "HTTP " + response.statusCode());
                } else {
                    forwarded.incrementAndGet();
                }
            } finally {
                inFlight.release();
            }
        });
    }

    private void failure(String path, String why) {
        failed.incrementAndGet();
        if (reported.compareAndSet(false, true)) {
            log.accept("[collector] forwarding to " + base + path + " failed: " + why
                    + " (the view goes on; further failures are only counted)");
        }
    }

    /** Waits up to {@code millis} for requests under way to finish. */
    void drain(long millis) {
        try {
            if (inFlight.tryAcquire(MAX_IN_FLIGHT, millis, TimeUnit.MILLISECONDS)) {
                inFlight.release(MAX_IN_FLIGHT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** True when something accepts TCP connections at the URL's host and port within {@code timeoutMillis}. */
    static boolean reachable(String url, int timeoutMillis) {
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (u.getHost() == null) {
            return false;
        }
        int port = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(u.getHost(), port), timeoutMillis);
            return true;
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }
}

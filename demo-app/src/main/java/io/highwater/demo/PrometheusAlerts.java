package io.highwater.demo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Polls a Prometheus server's {@code GET /api/v1/alerts} every few seconds and keeps the state of each alert by
 * name ({@code pending} or {@code firing}; an alert that is neither is not listed by Prometheus). An alert with
 * several label sets counts as firing when any of them fires. State changes and the first failure to ask are
 * reported as log lines. Thread-safe.
 */
final class PrometheusAlerts implements AutoCloseable {
    private final URI base;
    private final HttpClient client;
    private final ScheduledExecutorService poller;
    private final Consumer<String> log;
    private volatile Map<String, String> states = Collections.emptyMap();
    private volatile boolean answered;
    private volatile boolean complained;

    PrometheusAlerts(String baseUrl, Consumer<String> log) {
        String b = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.base = URI.create(b);
        this.log = log;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build();
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "prometheus-alerts");
            t.setDaemon(true);
            return t;
        });
    }

    String base() {
        return base.toString();
    }

    void start(long everyNanos) {
        poller.scheduleWithFixedDelay(this::poll, 0, everyNanos, TimeUnit.NANOSECONDS);
    }

    /** Alert name → {@code pending} or {@code firing}, from the latest answer; empty before the first. */
    Map<String, String> states() {
        return states;
    }

    boolean answered() {
        return answered;
    }

    private void poll() {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/alerts"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode());
            }
            Map<String, String> now = parse(r.body());
            Map<String, String> before = states;
            for (Map.Entry<String, String> e : now.entrySet()) {
                String was = before.get(e.getKey());
                if (!e.getValue().equals(was)) {
                    log.accept("[prometheus] alert " + e.getKey() + ": " + (was == null ? "inactive" : was) + " → "
                            + e.getValue());
                }
            }
            for (String name : before.keySet()) {
                if (!now.containsKey(name)) {
                    log.accept("[prometheus] alert " + name + ": " + before.get(name) + " → inactive");
                }
            }
            states = now;
            answered = true;
        } catch (IOException | RuntimeException e) {
            if (!complained) {
                complained = true;
                log.accept("[prometheus] cannot read " + base + "/api/v1/alerts: " + e
                        + " (reported once; the view goes on)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Alert name → worst state (firing over pending) from an {@code /api/v1/alerts} answer. */
    static Map<String, String> parse(String json) {
        Object root = Json.parse(json);
        if (!"success".equals(Json.at(root, "status"))) {
            throw new IllegalArgumentException("status " + Json.at(root, "status"));
        }
        Object alerts = Json.at(root, "data", "alerts");
        Map<String, String> out = new TreeMap<>();
        if (!(alerts instanceof List)) {
            return out;
        }
        for (Object a : (List<?>) alerts) {
            Object name = Json.at(a, "labels", "alertname");
            Object state = Json.at(a, "state");
            if (!(name instanceof String) || !(state instanceof String)) {
                continue;
            }
            out.merge((String) name, (String) state, (x, y) -> "firing".equals(x) || "firing".equals(y) ? "firing" : x);
        }
        return out;
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }

    /** True when a Prometheus server answers {@code GET /-/ready} at {@code baseUrl} within {@code timeoutMillis}. */
    static boolean reachable(String baseUrl, int timeoutMillis) {
        if (!CollectorTee.reachable(baseUrl, timeoutMillis)) {
            return false;
        }
        try {
            String b = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofMillis(timeoutMillis)).build();
            HttpResponse<Void> r = c.send(HttpRequest.newBuilder(URI.create(b + "/-/ready"))
                    .timeout(Duration.ofMillis(Math.max(timeoutMillis, 1000))).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException | RuntimeException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

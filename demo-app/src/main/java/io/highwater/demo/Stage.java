package io.highwater.demo;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * What a {@link Phase} plays on: the service in its child JVM, the phone, the agent's telemetry with the live view,
 * and the narrator. Used from the scenario's main thread.
 */
final class Stage {
    final ScenarioOptions options;
    final ServiceProcess service;
    private final TelemetrySinks sinks;
    private final Narrator narrator;

    Stage(ScenarioOptions options, ServiceProcess service, TelemetrySinks sinks, Narrator narrator) {
        this.options = options;
        this.service = service;
        this.sinks = sinks;
        this.narrator = narrator;
    }

    void say(String line) {
        narrator.say(line);
    }

    boolean hasView() {
        return sinks.view() != null;
    }

    /** What the agent has exported so far. */
    AgentTelemetry.Snapshot telemetry() {
        return sinks.telemetry.snapshot();
    }

    /** How often the agent reports what it sees: its export interval to the view, else its console interval. */
    long reportNanos() {
        return hasView() ? options.exportNanos : options.consoleNanos;
    }

    /** The phone downloads {@code bytes} of the export from {@code endpoint} for at most {@code maxNanos}. */
    SlowClient.Result download(int port, String endpoint, long maxNanos) {
        return download(port, endpoint, "", maxNanos, () -> false, 0);
    }

    /**
     * The phone downloads from {@code endpoint} ({@code ?bytes=...} and {@code moreQuery}) for at most
     * {@code maxNanos}, or until {@code graceNanos} after {@code stopWhen} turned true. With the live view, the view
     * follows the download and the phone prints no progress lines of its own.
     */
    SlowClient.Result download(int port, String endpoint, String moreQuery, long maxNanos, BooleanSupplier stopWhen,
                               long graceNanos) {
        return download(port, endpoint, options.bytes, moreQuery, maxNanos, stopWhen, graceNanos);
    }

    /** As above, for an export of {@code bytes} rather than the scenario's {@code --bytes}. */
    SlowClient.Result download(int port, String endpoint, long bytes, String moreQuery, long maxNanos,
                               BooleanSupplier stopWhen, long graceNanos) {
        LiveView view = sinks.view();
        SlowClient.Options phone = new SlowClient.Options()
                .target("127.0.0.1", port, endpoint + "?bytes=" + Units.sizeArgument(bytes) + moreQuery)
                .rate(options.rate).maxNanos(maxNanos).label("phone").lines(narrator::say);
        if (view != null) {
            phone.progressNanos(0).onConnected(local -> view.connected(endpoint, local));
        }
        SlowClient client = new SlowClient(phone);
        if (view != null) {
            view.endpoint(endpoint, client::progress);
        }
        AtomicReference<SlowClient.Result> result = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(client.download());
            } catch (IOException e) {
                say("[phone] failed: " + e);
            }
        }, "phone");
        t.setDaemon(true);
        t.start();
        long stopAt = -1;
        while (t.isAlive()) {
            join(t, 100);
            if (stopAt < 0 && stopWhen.getAsBoolean()) {
                stopAt = System.nanoTime() + graceNanos;
            }
            if (stopAt >= 0 && System.nanoTime() >= stopAt) {
                client.stop();
                join(t, 2000);
                break;
            }
        }
        SlowClient.Result r = result.get() != null ? result.get() : new SlowClient.Result();
        r.localPort = client.progress().localPort;
        return r;
    }

    /**
     * With the view: waits until a metrics batch newer than now arrived and the span of the phone's connection from
     * local port {@code port} (any negative port: no span), for at most two export intervals and a bit.
     */
    void awaitAgent(int port) {
        LiveView view = sinks.view();
        if (view == null) {
            return;
        }
        long since = System.nanoTime();
        long deadline = since + 2 * options.exportNanos + TimeUnit.MILLISECONDS.toNanos(1500);
        while (System.nanoTime() < deadline) {
            boolean batch = telemetry().lastMetricsNanos > since;
            if (batch && (port < 0 || view.spanArrived(port))) {
                return;
            }
            sleep(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /** With the view: waits until a metrics batch newer than now arrived. */
    void awaitMetrics() {
        awaitAgent(-1);
    }

    /** The peak pending bytes the agent exported for the phone's connection of {@code r}, or "not exported". */
    String peakPending(AgentTelemetry.Snapshot s, SlowClient.Result r) {
        Long p = r.localPort < 0 ? null : s.connectionPeak.get((long) r.localPort);
        return p == null ? "not exported" : Units.size(p);
    }

    static void sleep(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void join(Thread t, long millis) {
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

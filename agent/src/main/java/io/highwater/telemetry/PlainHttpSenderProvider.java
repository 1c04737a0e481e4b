package io.highwater.telemetry;

import io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.opentelemetry.sdk.common.export.MessageWriter;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The exporter's HTTP sender, registered as the only {@link HttpSenderProvider} of the agent's SDK (the build drops
 * the JDK sender's own registration). A plain {@code http://} endpoint without TLS settings gets
 * {@link BlockingHttpSender}, which keeps the export off the java.base code a NIO transport writes through, and
 * keeps the JDK's TLS machinery out of the JVM (the JSSE provider, its cipher suites and the trust store, ~180
 * classes and ~300 ms of CPU that the JDK's {@code HttpClient} loads even for plain http). {@code https://}
 * endpoints, and endpoints with TLS settings of their own, get OpenTelemetry's own JDK {@code HttpClient} sender
 * exactly as configured, with its outcomes reported to {@link ExportStatus} (after its retries: its attempts are
 * its own).
 */
public final class PlainHttpSenderProvider implements HttpSenderProvider {

    private final JdkHttpSenderProvider jdk = new JdkHttpSenderProvider();

    @Override
    public HttpSender createSender(HttpSenderConfig config) {
        if (plain(config)) {
            return new BlockingHttpSender(config);
        }
        HttpSender sender = jdk.createSender(config);
        ExportStatus status = ExportStatus.current();
        return status == null ? sender : new Reporting(sender, status, status.targetFor(config.getEndpoint()));
    }

    static boolean plain(HttpSenderConfig config) {
        URI endpoint = config.getEndpoint();
        return endpoint != null && "http".equalsIgnoreCase(endpoint.getScheme()) && config.getSslContext() == null;
    }

    /** Reports another sender's outcomes and hands them over as {@link BlockingHttpSender} does. */
    static final class Reporting implements HttpSender {
        private final HttpSender delegate;
        private final ExportStatus status;
        private final ExportStatus.Target target;
        private volatile boolean shutdown;
        private final BooleanSupplier stopped = this::isShutdown;

        Reporting(HttpSender delegate, ExportStatus status, ExportStatus.Target target) {
            this.delegate = delegate;
            this.status = status;
            this.target = target;
        }

        @Override
        public void send(MessageWriter message, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
            long started = status.now();
            target.held.incrementAndGet();
            try {
                delegate.send(message, new OnResponse(onResponse, onError, started), new OnError(onError, started));
            } catch (RuntimeException | Error e) {
                target.held.decrementAndGet();
                throw e;
            }
        }

        private final class OnResponse implements Consumer<HttpResponse> {
            private final Consumer<HttpResponse> onResponse;
            private final Consumer<Throwable> onError;
            private final long started;

            OnResponse(Consumer<HttpResponse> onResponse, Consumer<Throwable> onError, long started) {
                this.onResponse = onResponse;
                this.onError = onError;
                this.started = started;
            }

            @Override
            public void accept(HttpResponse r) {
                int code = r.getStatusCode();
                if (code >= 200 && code < 300) {
                    status.succeeded(target);
                } else {
                    status.attemptFailed(target, ExportStatus.Failure.HTTP, code, "HTTP " + code, started);
                    status.exportFailed(target);
                }
                Handover.response(onResponse, r, onError, status.reserve(), stopped);
                target.held.decrementAndGet();
            }
        }

        private final class OnError implements Consumer<Throwable> {
            private final Consumer<Throwable> onError;
            private final long started;

            OnError(Consumer<Throwable> onError, long started) {
                this.onError = onError;
                this.started = started;
            }

            @Override
            public void accept(Throwable t) {
                if (MemoryReserve.isOutOfMemory(t)) {
                    status.outOfMemory(target);
                } else {
                    String cause = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
                    if (causedBy(t, HttpTimeoutException.class)) {
                        status.attemptFailed(target, ExportStatus.Failure.TIMEOUT, 0, "timed out (" + cause + ")",
                                started);
                    } else if (causedBy(t, ConnectException.class)) {
                        status.attemptFailed(target, ExportStatus.Failure.REFUSED, 0, "connection refused (" + cause
                                + ")", started);
                    } else {
                        status.attemptFailed(target, ExportStatus.Failure.IO, 0, cause, started);
                    }
                    status.exportFailed(target);
                }
                Handover.error(onError, t, status.reserve(), stopped);
                target.held.decrementAndGet();
            }
        }

        private boolean isShutdown() {
            return shutdown;
        }

        private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
            Throwable c = t;
            for (int depth = 0; c != null && depth < 16; depth++) {
                if (type.isInstance(c)) {
                    return true;
                }
                c = c.getCause() == c ? null : c.getCause();
            }
            return false;
        }

        @Override
        public CompletableResultCode shutdown() {
            shutdown = true;
            return delegate.shutdown();
        }
    }
}

package io.highwater.telemetry;

import io.highwater.base.AgentTimer;
import io.highwater.socket.bootstrap.SocketWrites;
import io.highwater.config.Settings;
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
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
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
 * server's CPU samples without the agent, 2.9 % with it; docs/benchmark-journal.md, "Streaming"). A blocking socket writes
 * through {@code NioSocketImpl}, which no NIO transport uses, and needs no selector thread.
 *
 * <p>Semantics follow OpenTelemetry's sender: the configured timeouts, headers, compression and proxy; retries
 * with exponential backoff and jitter on 429, 502, 503 and 504 and on I/O errors, as the retry policy says; the
 * response body read up to the configured limit. One connection per export, closed after it; the host's response
 * cache is not used. While this thread exports, its socket writes are kept out of the agent's own socket layer.
 *
 * <p>Built to keep working when the host's heap is full: the request is serialised into a buffer allocated with the
 * sender and kept (it grows to the largest request and stays), its thread ({@link ExportThread}) is started with
 * the sender and kept, every failed attempt is reported to {@link ExportStatus} at once (not after the retries), an
 * attempt that makes no progress (a collector that stops reading the request: a blocking socket write has no timeout
 * of its own) is cut off by a watchdog on the agent's timer after the connect and read timeouts and a second, and
 * the outcome is handed to the exporter even if the exporter's callback first fails for lack of memory, so the
 * export always completes.
 */
final class BlockingHttpSender implements HttpSender {

    private static final List<Integer> RETRYABLE_STATUS = Arrays.asList(429, 502, 503, 504);
    /** What the request buffer starts with: a metrics batch of a busy agent fits. */
    static final int INITIAL_BUFFER = 64 * 1024;
    /** Beyond its timeouts, how long an attempt may go on before the watchdog cuts it off. */
    private static final long WATCHDOG_SLACK_MS = 1000;
    private static final long WATCHDOG_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Exports queued at most: the agent makes one per signal at a time, plus a final one. */
    private static final int QUEUE = 4;

    private final HttpSenderConfig config;
    private final URL url;
    private final Proxy proxy;
    private final ExportThread thread;
    /** Cuts off an attempt that went on past its deadline; null without a timer. */
    private final AgentTimer.Job watchdog;
    /** The attempt under way, for the watchdog. */
    private volatile Attempt current;
    /** Null when nobody listens (the sender's own tests). */
    private final ExportStatus status;
    private final ExportStatus.Target target;
    /** The request of the export under way; only the export thread touches it. */
    private final Body body = new Body(INITIAL_BUFFER);
    private final byte[] chunk = new byte[8192];
    private volatile boolean shutdown;
    private final BooleanSupplier stopped = this::isShutdown;

    BlockingHttpSender(HttpSenderConfig config) {
        this(config, ExportStatus.current());
    }

    BlockingHttpSender(HttpSenderConfig config, ExportStatus status) {
        this.config = config;
        URI endpoint = config.getEndpoint();
        try {
            this.url = endpoint.toURL();
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("not an http URL: " + endpoint, e);
        }
        this.proxy = proxy(config.getProxyOptions(), endpoint);
        this.status = status;
        this.target = status == null ? null : status.targetFor(endpoint);
        String name = target == null ? "highwater-export" : "highwater-export-" + target.signal.id;
        // started now, with the SDK, and kept: a thread that must be started in a memory crisis may not start
        this.thread = new ExportThread(name, QUEUE);
        AgentTimer timer = status == null ? null : status.timer();
        this.watchdog = timer == null ? null
                : timer.periodic(name + " watchdog", new Watchdog(), WATCHDOG_PERIOD_NANOS, WATCHDOG_PERIOD_NANOS,
                        false);
    }

    private static Proxy proxy(ProxyOptions options, URI endpoint) {
        if (options == null) {
            return Proxy.NO_PROXY;
        }
        List<Proxy> proxies = options.getProxySelector().select(endpoint);
        return proxies == null || proxies.isEmpty() ? Proxy.NO_PROXY : proxies.get(0);
    }

    /**
     * Queues the export on the sender's thread. Throws only when it cannot even be queued for lack of memory: the
     * caller then knows that no callback will come.
     */
    @Override
    public void send(MessageWriter message, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
        Export export = new Export(message, onResponse, onError);
        hold(1);
        if (!thread.offer(export)) {
            hold(-1);
            onError.accept(new RejectedExecutionException(shutdown ? "the sender is shut down"
                    : "the sender has " + QUEUE + " exports queued already"));
        }
    }

    private void hold(int delta) {
        if (target != null) {
            target.held.addAndGet(delta);
        }
    }

    /** One export on the sender's thread; a class of its own, so nothing is spun up the first time it runs. */
    private final class Export implements Runnable {
        private final MessageWriter message;
        private final Consumer<HttpResponse> onResponse;
        private final Consumer<Throwable> onError;

        Export(MessageWriter message, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
            this.message = message;
            this.onResponse = onResponse;
            this.onError = onError;
        }

        @Override
        public void run() {
            boolean exempt = SocketWrites.exemptThisThread();
            try {
                export(message, onResponse, onError);
            } finally {
                hold(-1);
                if (exempt) {
                    SocketWrites.endExemption();
                }
            }
        }
    }

    private void export(MessageWriter message, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
        Response response = null;
        Throwable error = null;
        try {
            response = withRetries(message);
        } catch (Throwable t) {
            error = t;
        }
        if (status != null) {
            if (error != null && MemoryReserve.isOutOfMemory(error)) {
                status.outOfMemory(target);
            } else if (response != null && response.status >= 200 && response.status < 300) {
                status.succeeded(target);
            } else {
                status.exportFailed(target);
            }
        }
        MemoryReserve reserve = status == null ? null : status.reserve();
        if (response != null) {
            Handover.response(onResponse, response, onError, reserve, stopped);
        } else {
            Handover.error(onError, error, reserve, stopped);
        }
    }

    private Response withRetries(MessageWriter message) throws IOException, InterruptedException {
        body(message);
        RetryPolicy policy = config.getRetryPolicy();
        int attempts = policy == null ? 1 : Math.max(1, policy.getMaxAttempts());
        long maxBackoff = policy == null ? 0 : policy.getMaxBackoff().toNanos();
        long backoff = policy == null ? 0 : Math.min(policy.getInitialBackoff().toNanos(), maxBackoff);
        Predicate<IOException> retryable = policy == null || policy.getRetryExceptionPredicate() == null
                // OpenTelemetry's own default: I/O errors are transient (TLS ones aside, which plain http has none of)
                ? e -> true : policy.getRetryExceptionPredicate();
        for (int attempt = 1; ; attempt++) {
            Attempt a = new Attempt(status == null ? 0 : status.now(), deadline());
            try {
                Response r = post(a);
                boolean ok = r.status >= 200 && r.status < 300;
                if (!ok) {
                    failed(ExportStatus.Failure.HTTP, r.status, "HTTP " + r.status
                            + (r.message.isEmpty() ? "" : " " + r.message), a);
                }
                if (ok || attempt == attempts || !RETRYABLE_STATUS.contains(r.status)) {
                    return r;
                }
            } catch (IOException e) {
                reportFailed(e, a);
                if (attempt == attempts || !retryable.test(e)) {
                    throw e;
                }
            }
            // a backoff, not a synchronisation: jittered as OpenTelemetry's sender does
            TimeUnit.NANOSECONDS.sleep(backoff > 0 ? ThreadLocalRandom.current().nextLong(backoff) : 0);
            backoff = Math.min((long) (backoff * policy.getBackoffMultiplier()), maxBackoff);
        }
    }

    private void failed(ExportStatus.Failure kind, int httpStatus, String detail, Attempt a) {
        if (status != null) {
            status.attemptFailed(target, kind, httpStatus, detail, a.startedMillis);
        }
    }

    private void reportFailed(IOException e, Attempt a) {
        if (status == null) {
            return;
        }
        String cause = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        if (a.cutOff) {
            failed(ExportStatus.Failure.TIMEOUT, 0, "the collector did not take the request within "
                    + Settings.format(config.getConnectTimeout().plus(config.getTimeout())
                            .plusMillis(WATCHDOG_SLACK_MS)) + " (connect timeout, otel.exporter.otlp.timeout and 1s):"
                    + " cut off (" + cause + ")", a);
        } else if (e instanceof SocketTimeoutException || e instanceof InterruptedIOException) {
            failed(ExportStatus.Failure.TIMEOUT, 0, a.connected
                    ? "no answer within " + Settings.format(config.getTimeout()) + " (otel.exporter.otlp.timeout; "
                            + cause + ")"
                    : "no connection within " + Settings.format(config.getConnectTimeout()) + " (the connect timeout; "
                            + cause + ")", a);
        } else if (e instanceof ConnectException) {
            failed(ExportStatus.Failure.REFUSED, 0, "connection refused (" + cause + ")", a);
        } else {
            failed(ExportStatus.Failure.IO, 0, cause, a);
        }
    }

    /**
     * The request body, compressed if so configured, in the sender's own buffer: a metrics batch is small, and a
     * fixed length suits any server.
     */
    private void body(MessageWriter message) throws IOException {
        Compressor compressor = config.getCompressor();
        body.reset();
        if (compressor == null) {
            message.writeMessage(body);
        } else {
            try (OutputStream out = compressor.compress(body)) {
                message.writeMessage(out);
            }
        }
    }

    /** What one attempt went through, for its failure's description and for the watchdog. */
    private static final class Attempt {
        final long startedMillis;
        /** When the watchdog cuts it off; 0 when never (a timeout is unlimited). */
        final long deadlineNanos;
        volatile HttpURLConnection connection;
        volatile boolean connected;
        volatile boolean cutOff;
        volatile boolean over;

        Attempt(long startedMillis, long deadlineNanos) {
            this.startedMillis = startedMillis;
            this.deadlineNanos = deadlineNanos;
        }

        /** Closes its socket under it, so that a blocked write or read throws. */
        void cutOff() {
            HttpURLConnection c = connection;
            if (!over && c != null) {
                cutOff = true;
                c.disconnect();
            }
        }
    }

    /** The watchdog, on the agent's timer: an attempt still going at its deadline is cut off. */
    private final class Watchdog implements Runnable {
        @Override
        public void run() {
            Attempt a = current;
            if (a != null && a.deadlineNanos != 0 && !a.over && System.nanoTime() - a.deadlineNanos >= 0) {
                a.cutOff();
            }
        }
    }

    private long deadline() {
        Duration connect = config.getConnectTimeout();
        Duration read = config.getTimeout();
        if (watchdog == null || connect.isZero() || read.isZero()) {
            return 0;
        }
        long d = System.nanoTime() + connect.toNanos() + read.toNanos()
                + TimeUnit.MILLISECONDS.toNanos(WATCHDOG_SLACK_MS);
        return d == 0 ? 1 : d;
    }

    private Response post(Attempt a) throws IOException {
        HttpURLConnection c = (HttpURLConnection) url.openConnection(proxy);
        a.connection = c;
        current = a;
        try {
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setUseCaches(false);
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout(millis(config.getConnectTimeout().toMillis()));
            c.setReadTimeout(millis(config.getTimeout().toMillis()));
            c.setFixedLengthStreamingMode(body.size());
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
                a.connected = true;
                out.write(body.array(), 0, body.size());
            }
            int status = c.getResponseCode();
            String message = c.getResponseMessage();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            byte[] responseBody = in == null ? new byte[0] : read(in, config.getMaxResponseBodySize());
            return new Response(status, message == null ? "" : message, responseBody);
        } catch (Throwable e) {
            // the socket closes now, not when the collector or the garbage collector gets round to it
            c.disconnect();
            throw e;
        } finally {
            a.over = true;
            current = null;
        }
    }

    /** Reads to the end, so that the connection can be reused, keeping at most {@code limit} bytes. */
    private byte[] read(InputStream in, long limit) throws IOException {
        try (InputStream answer = in) {
            ByteArrayOutputStream kept = new ByteArrayOutputStream(0);
            for (int n; (n = answer.read(chunk)) > 0; ) {
                int keep = (int) Math.max(0, Math.min(n, limit - kept.size()));
                kept.write(chunk, 0, keep);
            }
            return kept.toByteArray();
        }
    }

    private static int millis(long ms) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, ms));
    }

    private boolean isShutdown() {
        return shutdown;
    }

    @Override
    public CompletableResultCode shutdown() {
        shutdown = true;
        if (watchdog != null) {
            watchdog.cancel();
        }
        // an idle thread ends at once; a detach expects the agent's threads gone when it returns
        thread.close(1000);
        return CompletableResultCode.ofSuccess();
    }

    /** A byte array output stream whose array can be written out without a copy. */
    static final class Body extends ByteArrayOutputStream {
        Body(int size) {
            super(size);
        }

        byte[] array() {
            return buf;
        }
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

package io.highwater.demo;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The report export on Vert.x 5 (an {@code HttpServer} over the service's Netty), twice:
 * <ul>
 *   <li>{@code /vertx/respecting?bytes=N} writes rows while {@code writeQueueFull()} is false and resumes in the
 *       response's {@code drainHandler} ({@link #writeRowsRespectingBackpressure}): Vert.x's queue holds at most its
 *       high-water mark of messages;</li>
 *   <li>{@code /vertx/ignoring?bytes=N&rate=R} writes R bytes of rows per second from a timer and never asks
 *       ({@link #writeRowsIgnoringBackpressure}): the rows pile up in Vert.x's own per-connection queue, on the heap,
 *       in front of Netty, whose outbound buffer stays at about one high-water mark. The export ends when it has
 *       written its N bytes, so N is the cap of the pile (the scenario keeps it below the heap).</li>
 * </ul>
 * While the ignoring export is open it prints, once a second, its own count of the bytes it handed to Vert.x whose
 * write has not completed yet ({@link #TRUTH}): what sits in Vert.x's queue and in Netty's outbound buffer, and how
 * much of it is Netty's (Netty's own count). Vert.x completes a write's future once Netty wrote the bytes to the
 * socket. All of an export's work runs on its connection's event loop.
 */
final class VertxExport implements AutoCloseable {
    /** What one {@code write} hands to Vert.x. */
    static final int ROW = 8 * 1024;
    /**
     * How often the ignoring export writes: each tick, what the rate allows since the start and was not written yet
     * (a late tick catches up), at most {@link #MAX_TICK}.
     */
    static final int TICKS_PER_SECOND = 100;
    /** At most this much per tick (without {@code rate}: 100 MiB/s), so the event loop still serves the rest. */
    static final int MAX_TICK = 1 << 20;

    static final String TRUTH = "vertx export ignoring: queued ";
    /** {@code queued <bytes> B (...) in Vert.x and Netty, <bytes> B of it in Netty's outbound buffer; ...}. */
    static final Pattern TRUTH_LINE = Pattern.compile("^" + Pattern.quote(TRUTH)
            + "(\\d+) B \\([^)]*\\) in Vert\\.x and Netty, (-?\\d+) B of it in Netty's outbound buffer; (\\d+) writes"
            + " made while writeQueueFull\\(\\)");
    static final String IGNORING_END = "vertx export ignoring: ended";
    static final String RESPECTING_END = "vertx export respecting: ended";

    private final Vertx vertx;
    private final HttpServer server;

    private VertxExport(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    static VertxExport start(String host, int port) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            HttpServer server = vertx.createHttpServer().requestHandler(req -> handle(vertx, req));
            HttpServer listening = server.listen(port, host).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            return new VertxExport(vertx, listening);
        } catch (Exception e) {
            vertx.close(); // its threads would keep the service alive
            throw e;
        }
    }

    int port() {
        return server.actualPort();
    }

    /** The Vert.x version from its jar, for the start-up line. */
    static String version() {
        try (java.io.InputStream in = Vertx.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")) {
            return in == null ? "5" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        } catch (java.io.IOException e) {
            return "5";
        }
    }

    private static void handle(Vertx vertx, HttpServerRequest req) {
        long bytes;
        long rate;
        try {
            String b = req.getParam("bytes");
            String r = req.getParam("rate");
            bytes = b == null ? ReportingService.DEFAULT_EXPORT_BYTES : Units.parseSize(b);
            rate = r == null ? 0 : Units.parseSize(r);
        } catch (IllegalArgumentException e) {
            req.response().setStatusCode(400).end(e.getMessage() + "\n");
            return;
        }
        HttpServerResponse response = req.response().putHeader("content-type", "text/csv")
                .putHeader("content-length", Long.toString(bytes));
        switch (req.path()) {
            case "/vertx/respecting":
                respecting(response, new CsvExport(bytes));
                break;
            case "/vertx/ignoring":
                new Ignoring(vertx, req.connection(), response, new CsvExport(bytes), rate).start();
                break;
            default:
                req.response().setStatusCode(404).end("endpoints: /vertx/respecting?bytes=N"
                        + "  /vertx/ignoring?bytes=N&rate=R\n");
        }
    }

    /** The next row of the export, at most {@link #ROW} bytes, in a buffer of its own (Vert.x keeps it queued). */
    static Buffer nextRow(CsvExport csv) {
        byte[] row = new byte[(int) Math.min(ROW, csv.remaining())];
        csv.read(row, 0, row.length);
        return Buffer.buffer(row);
    }

    // ------------------------------------------------------------------------------------------------------------
    // respecting

    private static void respecting(HttpServerResponse response, CsvExport csv) {
        response.closeHandler(v -> ReportingService.say(RESPECTING_END + " (the client went away) after "
                + Units.size(csv.position())));
        writeRowsRespectingBackpressure(response, csv);
    }

    /** Writes while Vert.x's queue has room, then waits for its drain handler: the queue stays small. */
    static void writeRowsRespectingBackpressure(HttpServerResponse response, CsvExport csv) {
        while (!response.writeQueueFull() && csv.hasMore()) {
            response.write(nextRow(csv));
        }
        if (csv.hasMore()) {
            response.drainHandler(v -> writeRowsRespectingBackpressure(response, csv));
        } else {
            response.end();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // ignoring

    /** Writes rows without looking: one call per row, what the agent judges. */
    static Future<Void> writeRowsIgnoringBackpressure(HttpServerResponse response, Buffer row) {
        return response.write(row);
    }

    /** One download of {@code /vertx/ignoring}: its timers and its count, on the connection's event loop. */
    private static final class Ignoring {
        private final Vertx vertx;
        private final HttpConnection connection;
        private final HttpServerResponse response;
        private final CsvExport csv;
        private final long rate;
        private final long startNanos = System.nanoTime();
        private long written;
        private long completed;
        private long whileFull;
        private long peakQueued;
        private long writer = -1;
        private long reporter = -1;
        private boolean ended;

        Ignoring(Vertx vertx, HttpConnection connection, HttpServerResponse response, CsvExport csv, long rate) {
            this.vertx = vertx;
            this.connection = connection;
            this.response = response;
            this.csv = csv;
            this.rate = rate;
        }

        void start() {
            ReportingService.say("vertx export ignoring: streaming " + Units.size(csv.totalBytes()) + " to "
                    + connection.remoteAddress() + " without asking writeQueueFull()");
            // the connection's, not the response's: the response has ended once everything is handed over
            connection.closeHandler(v -> end("the connection closed"));
            writer = vertx.setPeriodic(1000 / TICKS_PER_SECOND, id -> tick());
            reporter = vertx.setPeriodic(1000, id -> report());
        }

        private void tick() {
            if (ended) {
                return;
            }
            try {
                long due = rate > 0 ? (long) ((System.nanoTime() - startNanos) / 1e9 * rate) - written : MAX_TICK;
                for (long n = 0; n < Math.min(due, MAX_TICK) && csv.hasMore(); ) {
                    Buffer row = nextRow(csv);
                    // bookkeeping for the demo's summary; the export itself never acts on it
                    if (response.writeQueueFull()) {
                        whileFull++;
                    }
                    int length = row.length();
                    writeRowsIgnoringBackpressure(response, row).onComplete(ar -> completed += length);
                    written += length;
                    n += length;
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                end(ReportingService.oneLine(e));
                return;
            }
            if (!csv.hasMore()) {
                vertx.cancelTimer(writer);
                writer = -1;
                response.end();
                report();
                ReportingService.say("vertx export ignoring: all " + Units.size(written) + " handed to Vert.x; the"
                        + " client reads them at its pace");
            }
        }

        /** The ground truth, on the event loop: what was handed to Vert.x and is not written yet. */
        private void report() {
            long netty = nettyPending(connection);
            if (netty < 0) {
                return; // the connection is closing: Netty dropped its buffer, Vert.x has not failed its queue yet
            }
            long queued = written - completed;
            peakQueued = Math.max(peakQueued, queued);
            ReportingService.say(TRUTH + queued + " B (" + Units.size(queued) + ") in Vert.x and Netty, "
                    + netty + " B of it in Netty's outbound buffer; " + whileFull
                    + " writes made while writeQueueFull()");
        }

        private void end(String why) {
            if (ended) {
                return;
            }
            ended = true;
            if (writer >= 0) {
                vertx.cancelTimer(writer);
            }
            if (reporter >= 0) {
                vertx.cancelTimer(reporter);
            }
            ReportingService.say(IGNORING_END + " (" + why + ") after " + Units.size(written) + " written, "
                    + whileFull + " writes while writeQueueFull(); up to " + Units.size(peakQueued)
                    + " queued at once");
        }
    }

    /**
     * Netty's own count of the connection's outbound buffer, or -1 when the channel is no longer active (or cannot be
     * reached): Vert.x's connection object has a public {@code channel()} that its public interface does not declare.
     */
    static long nettyPending(HttpConnection connection) {
        try {
            Channel channel = (Channel) connection.getClass().getMethod("channel").invoke(connection);
            ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
            return out == null || !channel.isActive() ? -1 : out.totalPendingWriteBytes();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    /** Stops the server and Vert.x's threads, waiting at most 5 s (at the service's exit). */
    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            ReportingService.say("stopping Vert.x: " + ReportingService.oneLine(e));
        }
    }
}

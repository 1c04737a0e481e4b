package io.highwater.it.apps.vertx;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Vert.x HTTP export of 8 KiB rows, compiled against Vert.x 5's API and run on Vert.x 5 or 4.5 (it uses nothing
 * 4.5 lacks). Routes ({@code ?bytes=} the total to export):
 * <ul>
 *   <li>{@code /ignore}: 200 rows per 1 ms timer tick, never acting on {@code writeQueueFull()}
 *       ({@link #ignoring}); it only counts the writes it made while the queue said full, for the test;</li>
 *   <li>{@code /drain}: writes while {@code !writeQueueFull()}, resumes from the drain handler ({@link #respecting});</li>
 *   <li>{@code /pipe}: a {@code ReadStream} of rows piped into the response, Vert.x's own respecting pattern.</li>
 * </ul>
 * Prints {@code VERTX <version>}, {@code LISTENING <port>}, {@code IGNORED-DONE written=<n> whileFull=<n>} when the
 * ignoring export wrote everything, and every 100 ms while a response is under way the ground truth read from
 * Vert.x and Netty themselves: {@code TRUTH queued=<messages> queuedBytes=<bytes> netty=<bytes> full=<bool>}
 * ({@code queued} is -1 on 4.5, which has no queue of its own).
 */
public final class VertxExport {

    public static final int ROW = 8192;
    static volatile HttpConnection connection;
    static volatile HttpServerResponse response;

    private VertxExport() {
    }

    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        HttpServer server = vertx.createHttpServer().requestHandler(req -> handle(vertx, req));
        int port = server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get().actualPort();
        System.out.println("VERTX " + version());
        System.out.println("LISTENING " + port);
        Thread truth = new Thread(VertxExport::printTruth, "truth");
        truth.setDaemon(true);
        truth.start();
    }

    private static void handle(Vertx vertx, HttpServerRequest req) {
        String bytes = req.getParam("bytes");
        long total = bytes == null ? 1_000_000 : Long.parseLong(bytes);
        // a length, not chunks: the test's client counts the body against it
        HttpServerResponse r = req.response().putHeader("content-length", String.valueOf(total));
        connection = req.connection();
        response = r;
        Buffer row = Buffer.buffer(new byte[ROW]);
        switch (req.path()) {
            case "/ignore" -> {
                AtomicLong written = new AtomicLong();
                AtomicLong whileFull = new AtomicLong();
                vertx.setPeriodic(1, id -> {
                    if (!ignoring(r, row, total, written, whileFull)) {
                        vertx.cancelTimer(id);
                        System.out.println("IGNORED-DONE written=" + written.get() + " whileFull=" + whileFull.get());
                    }
                });
            }
            case "/drain" -> respecting(r, row, total, new AtomicLong());
            case "/pipe" -> new Rows(vertx, row, total / ROW).pipeTo(r);
            default -> r.setStatusCode(404).end();
        }
    }

    /** 200 rows, whatever {@code writeQueueFull()} says; false once {@code total} bytes are written. */
    static boolean ignoring(HttpServerResponse r, Buffer row, long total, AtomicLong written, AtomicLong whileFull) {
        for (int i = 0; i < 200 && written.get() < total; i++) {
            if (r.writeQueueFull()) {
                whileFull.incrementAndGet();
            }
            r.write(row.copy());
            written.addAndGet(ROW);
        }
        return written.get() < total;
    }

    /** Writes until the queue is full, then waits for the drain handler. */
    static void respecting(HttpServerResponse r, Buffer row, long total, AtomicLong written) {
        while (!r.writeQueueFull() && written.get() < total) {
            r.write(row.copy());
            written.addAndGet(ROW);
        }
        if (written.get() < total) {
            r.drainHandler(v -> respecting(r, row, total, written));
        } else {
            r.end();
        }
    }

    /** A stream of rows that emits while it has demand: what {@code pipeTo} pauses and resumes. */
    static final class Rows implements ReadStream<Buffer> {
        private final Vertx vertx;
        private final Buffer row;
        private long left;
        private long demand = Long.MAX_VALUE;
        private Handler<Buffer> handler;
        private Handler<Void> end;
        private boolean scheduled;

        Rows(Vertx vertx, Buffer row, long rows) {
            this.vertx = vertx;
            this.row = row;
            this.left = rows;
        }

        @Override
        public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
            return this;
        }

        @Override
        public ReadStream<Buffer> handler(Handler<Buffer> h) {
            handler = h;
            schedule();
            return this;
        }

        @Override
        public ReadStream<Buffer> pause() {
            demand = 0;
            return this;
        }

        @Override
        public ReadStream<Buffer> resume() {
            return fetch(Long.MAX_VALUE);
        }

        @Override
        public ReadStream<Buffer> fetch(long amount) {
            long d = demand + amount;
            demand = d < 0 ? Long.MAX_VALUE : d;
            schedule();
            return this;
        }

        @Override
        public ReadStream<Buffer> endHandler(Handler<Void> h) {
            end = h;
            return this;
        }

        private void schedule() {
            if (!scheduled && handler != null) {
                scheduled = true;
                vertx.runOnContext(v -> emit());
            }
        }

        private void emit() {
            scheduled = false;
            while (demand > 0 && left > 0) {
                if (demand != Long.MAX_VALUE) {
                    demand--;
                }
                left--;
                handler.handle(row.copy());
            }
            if (left == 0 && end != null) {
                Handler<Void> e = end;
                end = null;
                e.handle(null);
            }
        }
    }

    private static void printTruth() {
        while (true) {
            try {
                Thread.sleep(100);
                HttpConnection c = connection;
                HttpServerResponse r = response;
                if (c == null || r == null) {
                    continue;
                }
                if (r.ended()) {
                    response = null;
                    continue;
                }
                Channel channel = (Channel) c.getClass().getMethod("channel").invoke(c);
                ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
                long netty = out == null ? -1 : out.totalPendingWriteBytes();
                long queued = -1;
                long queuedBytes = -1;
                Field qf = field(c.getClass(), "outboundMessageQueue");
                if (qf != null) {
                    Object q = qf.get(c);
                    Object mqp = field(q.getClass(), "mqp").get(q);
                    queued = (long) field(mqp.getClass(), "wip").get(mqp);
                    queuedBytes = bytesOf(field(mqp.getClass(), "overflow").get(mqp));
                    for (Object m : (Queue<?>) field(mqp.getClass(), "queue").get(mqp)) {
                        queuedBytes += bytesOf(m);
                    }
                }
                System.out.println("TRUTH queued=" + queued + " queuedBytes=" + queuedBytes + " netty=" + netty
                        + " full=" + r.writeQueueFull());
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                System.out.println("TRUTH-FAILED " + t);
            }
        }
    }

    /** What a queued {@code MessageWrite} will write: the buffers it captured. */
    private static long bytesOf(Object message) throws IllegalAccessException {
        if (message == null) {
            return 0;
        }
        long n = 0;
        for (Field f : message.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                continue;
            }
            f.setAccessible(true);
            Object v = f.get(message);
            if (v instanceof ByteBufHolder h) {
                n += h.content().readableBytes();
            } else if (v instanceof ByteBuf b) {
                n += b.readableBytes();
            }
        }
        return n;
    }

    private static Field field(Class<?> type, String name) {
        for (Class<?> k = type; k != null; k = k.getSuperclass()) {
            try {
                Field f = k.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // the superclass
            }
        }
        return null;
    }

    private static String version() {
        try (var in = Vertx.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")) {
            return in == null ? "unknown" : new String(in.readAllBytes()).trim();
        } catch (Exception e) {
            return "unknown";
        }
    }
}

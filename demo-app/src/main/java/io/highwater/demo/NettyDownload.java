package io.highwater.demo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.internal.OutOfDirectMemoryError;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * One download of the Netty export: the bookkeeping beside {@link NettyExport}'s writers. The rows and the pace they
 * are generated at, the bytes handed to Netty and those the socket took (for the status line, and for the line the
 * scenario reads when the download ends), and the ways a download ends.
 *
 * <p>Mutated only on its connection's event loop; the status printer reads the volatile counters.
 */
final class NettyDownload {
    /** Bytes per buffer at full speed. */
    static final int CHUNK_SIZE = 16 * 1024;

    final int id;
    final boolean respecting;
    final String peer;
    /** True while a respecting writer's loop runs: its own flush may call it again. */
    boolean writing;

    private final Channel channel;
    private final CsvExport rows;
    private final Consumer<NettyDownload> onEnd;
    private final byte[] scratch = new byte[CHUNK_SIZE];
    private final long startNanos = System.nanoTime();
    /** Bytes generated per second at most, or 0 for as fast as possible. */
    private final long rate;
    /** Bytes per buffer: {@link #CHUNK_SIZE}, smaller for slow production rates (about 20 writes a second). */
    private final int chunkSize;
    private boolean resumeScheduled;
    private boolean bodyFinished;
    private volatile long queuedTotal;
    private volatile long written;
    private volatile long peakQueued;
    private volatile boolean over;

    NettyDownload(int id, boolean respecting, Channel channel, String peer, long bytes, long rate,
                  Consumer<NettyDownload> onEnd) {
        this.id = id;
        this.respecting = respecting;
        this.channel = channel;
        this.peer = peer;
        this.rows = new CsvExport(bytes);
        this.rate = rate;
        this.chunkSize = rate <= 0 ? CHUNK_SIZE : (int) Math.max(1024, Math.min(CHUNK_SIZE, rate / 20));
        this.onEnd = onEnd;
    }

    /** {@code export #N respecting} or {@code export #N ignoring}: how the service's lines name this download. */
    String name() {
        return "export #" + id + " " + (respecting ? "respecting" : "ignoring");
    }

    /** The line {@link #end} prints, with the reason as group 1 and the peak queued in the process as group 2. */
    static Pattern endedLine(boolean respecting) {
        return Pattern.compile("^export #\\d+ " + (respecting ? "respecting" : "ignoring")
                + ": ended \\((.*?)\\) after .* peak queued in process (.+)$");
    }

    /** True when rows are left, the connection is open, and the production rate allows the next chunk now. */
    boolean rowsDue() {
        return !over && channel.isActive() && rows.hasMore() && nanosUntilNextChunk() <= 0;
    }

    /** True once every row is queued and the body's end is not. */
    boolean allRowsQueued() {
        return !over && !rows.hasMore() && !bodyFinished;
    }

    /**
     * The next rows in a direct buffer, or null when Netty's allocator refused one: direct memory is exhausted, this
     * download is over and its connection closing.
     */
    ByteBuf nextChunk(ChannelHandlerContext ctx) {
        int size = (int) Math.min(chunkSize, rows.remaining());
        ByteBuf chunk;
        try {
            chunk = ctx.alloc().directBuffer(size);
        } catch (OutOfMemoryError e) {
            if (!isDirectMemoryExhaustion(e)) {
                throw e;
            }
            directMemoryExhausted(e, "Netty's allocator refused the next " + Units.size(chunkSize) + " buffer");
            return null;
        }
        int n = rows.read(scratch, 0, size);
        chunk.writeBytes(scratch, 0, n);
        return chunk;
    }

    /** Counts {@code n} bytes as handed to Netty; the listener counts them as written once the socket took them. */
    ChannelFutureListener whenWritten(int n) {
        queuedTotal += n;
        peakQueued = Math.max(peakQueued, queuedTotal - written);
        return f -> {
            if (f.isSuccess()) {
                written += n;
            } else if (isDirectMemoryExhaustion(f.cause())) {
                directMemoryExhausted(f.cause(), "Netty failed the write promise");
            }
            // other failures (the client went away) end the download through channelInactive
        };
    }

    /** Listens to the write of the body's end: ends the download and closes the connection. */
    ChannelFutureListener whenBodyWritten() {
        bodyFinished = true;
        return f -> {
            end(f.isSuccess() ? "complete" : "the client went away");
            f.channel().close();
        };
    }

    /**
     * Runs {@code writer} on the event loop when the production rate allows the next chunk, in a millisecond at the
     * earliest (once, however often asked); nothing once no rows are left to write.
     */
    void resumeWhenDue(Runnable writer) {
        if (resumeScheduled || over || !channel.isActive() || !rows.hasMore()) {
            return;
        }
        resumeScheduled = true;
        channel.eventLoop().schedule(() -> {
            resumeScheduled = false;
            if (!over) {
                writer.run();
            }
        }, Math.max(TimeUnit.MILLISECONDS.toNanos(1), nanosUntilNextChunk()), TimeUnit.NANOSECONDS);
    }

    private long nanosUntilNextChunk() {
        if (rate <= 0) {
            return 0;
        }
        // the chunk may go out once rate * elapsed covers everything produced so far plus this chunk
        double due = (queuedTotal + Math.min(chunkSize, rows.remaining())) * 1e9 / rate;
        return (long) due - (System.nanoTime() - startNanos);
    }

    /** Ends the download on a failed allocation or write: one line with {@link ReportingService#FAILURE_MARKER}. */
    void directMemoryExhausted(Throwable cause, String how) {
        if (over) {
            return;
        }
        ReportingService.say((respecting ? "respecting" : "ignoring") + " export #" + id + ": "
                + ReportingService.FAILURE_MARKER + " with " + Units.size(inProcess()) + " queued in this process for"
                + " a client whose socket has taken " + Units.size(written) + " — " + how + " ("
                + ReportingService.oneLine(cause) + "); closing this connection. The process survives: Netty fails the"
                + " allocation or the write promise, it does not kill the JVM");
        end("direct memory exhausted");
        channel.close();
    }

    /** Ends the download once (the client went away, the body is complete, memory ran out) and says so. */
    void end(String reason) {
        if (over) {
            return;
        }
        over = true;
        onEnd.accept(this);
        ReportingService.say(name() + ": ended (" + reason + ") after " + Units.seconds(System.nanoTime() - startNanos)
                + " — " + Units.size(written) + " written to the socket, peak queued in process "
                + Units.size(peakQueued));
    }

    /** The connection closed: the download ends, complete or not. */
    void connectionClosed() {
        end(rows.hasMore() ? "the client went away" : "complete");
    }

    /** Bytes handed to Netty and not yet written to the socket. */
    long inProcess() {
        return Math.max(0, queuedTotal - written);
    }

    long written() {
        return written;
    }

    static boolean isDirectMemoryExhaustion(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof OutOfDirectMemoryError) {
                return true;
            }
            if (c instanceof OutOfMemoryError && c.getMessage() != null
                    && c.getMessage().toLowerCase(Locale.ROOT).contains("direct")) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }
}

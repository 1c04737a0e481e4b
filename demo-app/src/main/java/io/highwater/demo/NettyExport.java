package io.highwater.demo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The lesson on Netty: one CSV export streamed to a slow phone by a writer that respects backpressure and by one that
 * ignores it.
 *
 * <p>Netty never makes a writer wait. {@code ctx.write} always succeeds: it queues the bytes in the channel's outbound
 * buffer, in direct memory, until the socket takes them. Its only "stop" is {@link Channel#isWritable()} turning false
 * once more than the high-water mark (64 KiB here) is queued, and its "go" is {@code channelWritabilityChanged} once
 * the queue is below the low-water mark again. A writer that does not look holds everything the phone has not read.
 *
 * <p>The router ({@link NettyServer}) writes the response head and adds this handler for the body. Both writers call
 * {@code ctx.write} themselves, on the connection's event loop: the agent names the method that made an ignored write
 * ({@code code.function.name}), and that should be the method that decided not to wait. The download's bookkeeping
 * (rows, production rate, byte counts, how it ends) is {@link NettyDownload}; its {@code rowsDue()} is "rows are
 * left", unless the request asked for a production rate and the next rows are not due yet.
 */
final class NettyExport extends ChannelInboundHandlerAdapter {
    /** The ignoring writer queues this many chunks (1 MiB) per event-loop task, then queues itself again. */
    static final int IGNORING_BURST_CHUNKS = 64;

    private final NettyDownload download;

    NettyExport(NettyDownload download) {
        this.download = download;
    }

    /** Added once the response head is written: the body starts here. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (download.respecting) {
            writeRowsRespectingBackpressure(ctx, download);
        } else {
            writeRowsIgnoringBackpressure(ctx, download);
        }
    }

    /** The other half of respecting backpressure: the phone has caught up, so carry on where the writer stopped. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (download.respecting && ctx.channel().isWritable()) {
            writeRowsRespectingBackpressure(ctx, download);
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * The fix: writes while the channel is writable and returns when it is not; {@link #channelWritabilityChanged}
     * calls it again once the phone has read enough. However slow the phone, the process holds about one high-water
     * mark for it, and the event loop is free for other connections in between.
     */
    static void writeRowsRespectingBackpressure(ChannelHandlerContext ctx, NettyDownload download) {
        if (download.writing) {
            return; // our own flush below made the channel writable again: the loop below carries on
        }
        download.writing = true;
        try {
            Channel channel = ctx.channel();
            while (channel.isWritable() && download.rowsDue()) {
                while (channel.isWritable() && download.rowsDue()) {
                    ByteBuf chunk = download.nextChunk(ctx);
                    if (chunk == null) {
                        return; // direct memory ran out: the download is over
                    }
                    int n = chunk.readableBytes();
                    ctx.write(new DefaultHttpContent(chunk)).addListener(download.whenWritten(n));
                }
                // unflushed bytes count against the high-water mark too: the socket may take them all at once and
                // make the channel writable again, so look again after the flush
                ctx.flush();
            }
            if (download.allRowsQueued()) {
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(download.whenBodyWritten());
            } else if (channel.isWritable()) {
                // not the phone but the production rate holds the rows back: come back when the next chunk is due
                download.resumeWhenDue(() -> writeRowsRespectingBackpressure(ctx, download));
            }
            // else the phone holds them back: channelWritabilityChanged calls this again
        } finally {
            download.writing = false;
        }
    }

    /**
     * The bug: queues the next 1 MiB of rows whatever the channel says, and again and again until the export is done.
     * It never asks {@link Channel#isWritable()}: everything the phone has not read piles up in direct memory until
     * Netty fails an allocation or a write ({@code OutOfDirectMemoryError}). The download breaks off; the process
     * survives, and in the meantime it had no memory to spare for anyone else.
     */
    static void writeRowsIgnoringBackpressure(ChannelHandlerContext ctx, NettyDownload download) {
        for (int i = 0; i < IGNORING_BURST_CHUNKS && download.rowsDue(); i++) {
            ByteBuf chunk = download.nextChunk(ctx);
            if (chunk == null) {
                return; // direct memory ran out: the download is over, its connection closing
            }
            int n = chunk.readableBytes();
            ctx.write(new DefaultHttpContent(chunk)).addListener(download.whenWritten(n));
        }
        ctx.flush();
        if (download.allRowsQueued()) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(download.whenBodyWritten());
        } else if (download.rowsDue()) {
            // a task per burst lets the event loop serve its other connections: this writer's fault is memory, not
            // a hogged event loop
            ctx.executor().execute(() -> writeRowsIgnoringBackpressure(ctx, download));
        } else {
            download.resumeWhenDue(() -> writeRowsIgnoringBackpressure(ctx, download));
        }
    }
}

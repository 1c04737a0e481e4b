package io.highwater.bench.footprint;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server of bench/scripts/footprint.sh: accepts {@code connections} clients that never read, and once all
 * are connected and {@code goFile} exists, writes to every one of them until its channel turns unwritable (its
 * outbound buffer above the high-water mark, the kernel's buffers full): every connection under pressure, the
 * state in which the agent tracks it. The writer respects the stop signal (no ignored writes), so Netty's own
 * memory stays bounded by the water marks.
 *
 * <p>Prints {@code port <p>}, then {@code connected <n>} once all are in, then {@code unwritable <n>} once every
 * one is under pressure; then waits to be killed (the script takes its heap histograms meanwhile).
 *
 * <p>Usage: {@code PressureServer <connections> <goFile> [highWaterMark]}
 */
public final class PressureServer {

    public static void main(String[] args) throws Exception {
        int connections = Integer.parseInt(args[0]);
        Path goFile = Paths.get(args[1]);
        int high = args.length > 2 ? Integer.parseInt(args[2]) : 8192;
        EventLoopGroup group = new NioEventLoopGroup(2);
        ChannelGroup all = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        AtomicInteger unwritable = new AtomicInteger();
        Writer writer = new Writer(unwritable);
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.SO_SNDBUF, 4096)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(high / 2, high))
                .childHandler(new Collect(all))
                .bind("127.0.0.1", 0).sync().channel();
        System.out.println("port " + ((java.net.InetSocketAddress) server.localAddress()).getPort());
        System.out.flush();
        while (all.size() < connections) {
            Thread.sleep(50);
        }
        System.out.println("connected " + all.size());
        System.out.flush();
        while (!Files.exists(goFile)) {
            Thread.sleep(50);
        }
        for (Channel ch : all) {
            ch.eventLoop().execute(() -> writer.fill(ch));
        }
        while (unwritable.get() < connections) {
            Thread.sleep(50);
        }
        System.out.println("unwritable " + unwritable.get());
        System.out.flush();
        Thread.currentThread().join();
    }

    /** Puts every accepted channel into the group. */
    @ChannelHandler.Sharable
    static final class Collect extends ChannelInboundHandlerAdapter {
        private final ChannelGroup all;

        Collect(ChannelGroup all) {
            this.all = all;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            all.add(ctx.channel());
            ctx.fireChannelActive();
        }
    }

    /** Writes 1 KiB buffers until the channel says stop; counts each channel once when it does. */
    static final class Writer {
        private final AtomicInteger unwritable;

        Writer(AtomicInteger unwritable) {
            this.unwritable = unwritable;
        }

        void fill(Channel ch) {
            while (ch.isWritable()) {
                ByteBuf b = ch.alloc().ioBuffer(1024).writeZero(1024);
                ch.writeAndFlush(b, ch.voidPromise());
            }
            // the kernel's send and receive buffers are full too (the client never reads): it stays this way
            unwritable.incrementAndGet();
        }
    }
}

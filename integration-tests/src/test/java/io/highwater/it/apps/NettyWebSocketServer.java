package io.highwater.it.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Netty's own WebSocket server ({@code WebSocketServerProtocolHandler} over the HTTP codec), sending 8 KiB binary
 * frames once the handshake is done. Usage: {@code NettyWebSocketServer <ignore|respect> <frames>}.
 * <ul>
 *   <li>{@code ignore}: 200 frames per 1 ms tick with {@code writeAndFlush}, never asking {@code isWritable()}
 *       ({@link #ignoring}); it only counts the frames it wrote while the channel said unwritable;</li>
 *   <li>{@code respect}: writes while writable, resumes in {@code channelWritabilityChanged}.</li>
 * </ul>
 * Prints {@code LISTENING <port>} and {@code SENT frames=<n> whileUnwritable=<n>} when all frames are written.
 */
public final class NettyWebSocketServer {

    public static final int FRAME = 8192;

    private NettyWebSocketServer() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        long frames = Long.parseLong(args[1]);
        NioEventLoopGroup group = new NioEventLoopGroup(1);
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.SO_SNDBUF, 64 * 1024)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler("/ws"), new Sender(mode, frames));
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        System.out.println("LISTENING " + ((InetSocketAddress) server.localAddress()).getPort());
        server.closeFuture().sync();
    }

    /** An inbound-only handler: its writes go through the channel, as an application's do. */
    static final class Sender extends ChannelInboundHandlerAdapter {
        private final String mode;
        private final long frames;
        private long sent;
        private long whileUnwritable;

        Sender(String mode, long frames) {
            this.mode = mode;
            this.frames = frames;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                if (mode.equals("ignore")) {
                    tick(ctx.channel());
                } else {
                    respecting(ctx.channel());
                }
            }
            super.userEventTriggered(ctx, evt);
        }

        private void tick(Channel ch) {
            if (ignoring(ch)) {
                ch.eventLoop().schedule(() -> tick(ch), 1, TimeUnit.MILLISECONDS);
            }
        }

        /** 200 frames, whatever {@code isWritable()} says; false once all are written. */
        boolean ignoring(Channel ch) {
            for (int i = 0; i < 200 && sent < frames; i++) {
                if (!ch.isWritable()) {
                    whileUnwritable++;
                }
                ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[FRAME])));
                sent++;
            }
            if (sent == frames) {
                System.out.println("SENT frames=" + sent + " whileUnwritable=" + whileUnwritable);
                return false;
            }
            return true;
        }

        void respecting(Channel ch) {
            while (ch.isWritable() && sent < frames) {
                ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[FRAME])));
                sent++;
            }
            if (sent == frames) {
                System.out.println("SENT frames=" + sent + " whileUnwritable=0");
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            if (mode.equals("respect") && ctx.channel().isWritable() && sent < frames) {
                respecting(ctx.channel());
            }
            super.channelWritabilityChanged(ctx);
        }
    }
}

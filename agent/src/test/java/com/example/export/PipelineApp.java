package com.example.export;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;

/** Application-side Netty code for unit tests: handlers and writers outside every framework package. */
public final class PipelineApp {

    private PipelineApp() {
    }

    /** Writes what it reads back, in {@code channelRead}: the application writing from a handler. */
    public static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    /** Passes every write on, as an application's own encoder or metrics handler would. */
    public static final class PassOn extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg, promise);
        }
    }

    /** Writes {@code second} from the completion listener of {@code first}: the next chunk in a write's callback. */
    public static void writeFromListener(EmbeddedChannel channel, Object first, Object second) {
        channel.writeAndFlush(first).addListener((ChannelFutureListener) f -> f.channel().writeAndFlush(second));
    }

    public static void writeOnTheChannel(EmbeddedChannel channel, Object msg) {
        channel.writeAndFlush(msg);
    }
}

package io.highwater.http2;

import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application thread that writes into a stream channel while its event loop is busy: Netty queues each write as a
 * task, and the bytes sit on the heap before the flow controller has seen any of them. The stream's pending bytes
 * are those bytes (what the application wrote, less nothing), not the flow controller's 0. Real stream channels of
 * Netty's {@code Http2MultiplexHandler} over a local transport, on a real event loop.
 */
class Http2AdapterQueuedWritesTest {

    private static final int FRAME = 16 * 1024;
    private static final int FRAMES = 10;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final Monitor monitor = new Monitor(new ConnectionRegistry(10, dropped), new CallSites(10, dropped),
            dropped, new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get,
            30_000_000_000L);
    private final Http2Adapter adapter = new Http2Adapter(monitor);
    private final DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);

    @AfterEach
    void tearDown() throws InterruptedException {
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).await();
    }

    private static ChannelInitializer<Channel> h2(boolean server) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(server ? Http2FrameCodecBuilder.forServer().build()
                        : Http2FrameCodecBuilder.forClient().build(),
                        new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            }
        };
    }

    @Test
    void writesQueuedOnABusyEventLoopAreTheStreamsPendingBytes() throws Exception {
        LocalAddress address = new LocalAddress("h2-queued-" + System.nanoTime());
        new ServerBootstrap().group(group).channel(LocalServerChannel.class).childHandler(h2(true))
                .bind(address).sync();
        Channel parent = new Bootstrap().group(group).channel(LocalChannel.class).handler(h2(false))
                .connect(address).sync().channel();
        Http2StreamChannel child = new Http2StreamChannelBootstrap(parent)
                .handler(new ChannelInboundHandlerAdapter()).open().sync().getNow();
        child.writeAndFlush(new DefaultHttp2HeadersFrame(
                new DefaultHttp2Headers().method("POST").path("/upload").scheme("http"), false)).sync();
        assertThat(adapter.pendingBytes(child)).as("nothing written yet").isZero();

        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        group.execute(() -> {
            busy.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        busy.await();
        try {
            for (int i = 0; i < FRAMES; i++) {
                child.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[FRAME]), false));
            }
            child.flush();
            // the flow controller has seen none of them (it says 0); Netty counts each queued write with its task's
            // overhead and the frame's header (41 B here; 32 B of it is -Dio.netty.transport.writeTaskSizeOverhead)
            assertThat(adapter.pendingBytes(child)).as("the application's %d frames of %d B, queued on the loop",
                    FRAMES, FRAME).isBetween((long) FRAMES * FRAME, (long) FRAMES * (FRAME + 64));
        } finally {
            release.countDown();
        }
        parent.close().sync();
    }
}

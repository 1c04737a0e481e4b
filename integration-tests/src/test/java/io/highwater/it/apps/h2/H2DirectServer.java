package io.highwater.it.apps.h2;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.Version;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;

/**
 * A plain Netty h2c server whose handler is an {@code Http2ConnectionHandler} subclass that writes DATA frames
 * through {@code encoder().writeData} itself, with no stream channel (the style of Vert.x, Armeria and hand-written
 * servers), for {@code curl --http2-prior-knowledge}. {@code /ignore} writes bursts of DATA frames from a task on the
 * event loop that reschedules itself, never asking the flow controller; {@code /respect} writes while the flow
 * controller says the stream is writable ({@code isWritable(stream)}) and resumes on its listener's
 * {@code writabilityChanged}.
 *
 * <p>Ground truth on stdout, read from Netty itself on the event loop (the flow controller's per-stream
 * {@code pendingBytes}, private, read reflectively as a test may): {@code SENT writes=.. unwritable=.. beyond=..
 * maxpending=.. [waits=..]} (writes made while {@code isWritable(stream)} was false; of those, with more than
 * {@code --beyond} bytes queued for the stream; the most ever queued before a write; how often the respecting writer
 * stopped for the flow controller), {@code PENDING n t} every 200 ms (the stream's
 * queued bytes) and {@code WINDOW n t} (the connection's flow-control window left), {@code t} the wall-clock
 * milliseconds of the reading, to compare with the time of an exported data point; {@code WAITING /respect sent=n t}
 * when the respecting writer first stops.
 */
public final class H2DirectServer {

    private static long total = 48L << 20;
    private static int chunk = 16 << 10;
    private static int burst = 8;
    private static long beyondBytes = 128 << 10;
    /** The connections' socket send buffer (SO_SNDBUF), 0: the system's (loopback's autotuned buffers hide a lot). */
    private static int sndbuf;

    private H2DirectServer() {
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--total": total = Long.parseLong(args[i + 1]); break;
                case "--chunk": chunk = Integer.parseInt(args[i + 1]); break;
                case "--burst": burst = Integer.parseInt(args[i + 1]); break;
                case "--beyond": beyondBytes = Long.parseLong(args[i + 1]); break;
                case "--sndbuf": sndbuf = Integer.parseInt(args[i + 1]); break;
                default: throw new IllegalArgumentException(args[i]);
            }
        }
        EventLoopGroup group = new NioEventLoopGroup(1);
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class);
        if (sndbuf > 0) {
            b.childOption(ChannelOption.SO_SNDBUF, sndbuf);
        }
        Channel server = b
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Builder().build());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        System.out.println("NETTY-VERSION " + Version.identify().get("netty-codec-http2").artifactVersion());
        System.out.println("LISTENING " + ((java.net.InetSocketAddress) server.localAddress()).getPort());
        server.closeFuture().sync();
    }

    static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<DirectHandler, Builder> {
        @Override
        public DirectHandler build() {
            return super.build();
        }

        @Override
        protected DirectHandler build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                      Http2Settings initialSettings) {
            DirectHandler h = new DirectHandler(decoder, encoder, initialSettings);
            frameListener(h.listener);
            return h;
        }
    }

    /** An application's HTTP/2 server handler: it writes the response's frames through the encoder itself. */
    static final class DirectHandler extends Http2ConnectionHandler {
        final Listener listener = new Listener();
        private ChannelHandlerContext ctx;
        private Http2Stream respecting;
        private long sent;
        private long maxPending;
        /** How often the respecting writer stopped because the flow controller said its stream was not writable. */
        private long waits;

        DirectHandler(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
            super(decoder, encoder, settings);
            // the respecting writer resumes when the flow controller says its stream is writable again
            encoder.flowController().listener(stream -> {
                if (stream == respecting && encoder().flowController().isWritable(stream)) {
                    // not from inside the flow controller's own notification
                    ctx.executor().execute(this::pump);
                }
            });
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
            this.ctx = ctx;
            super.handlerAdded(ctx);
        }

        final class Listener extends Http2FrameAdapter {
            @Override
            public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                      boolean endStream) {
                request(ctx, streamId, headers);
            }

            @Override
            public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                                      int streamDependency, short weight, boolean exclusive, int padding,
                                      boolean endStream) {
                request(ctx, streamId, headers);
            }
        }

        private void request(ChannelHandlerContext ctx, int streamId, Http2Headers headers) {
            String path = String.valueOf(headers.path());
            encoder().writeHeaders(ctx, streamId, new DefaultHttp2Headers().status("200"), 0, false,
                    ctx.newPromise());
            Http2Stream stream = connection().stream(streamId);
            ctx.executor().scheduleAtFixedRate(() -> {
                long at = System.currentTimeMillis();
                System.out.println("PENDING " + pendingBytes(stream) + " " + at);
                System.out.println("WINDOW " + encoder().flowController().windowSize(connection().connectionStream())
                        + " " + at);
            }, 200, 200, TimeUnit.MILLISECONDS);
            if (path.startsWith("/ignore")) {
                ctx.executor().execute(new Pump(stream));
            } else {
                respecting = stream;
                pump();
            }
            try {
                flush(ctx);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** The ignoring writer: bursts of frames, whatever the flow controller says, until all is written. */
        final class Pump implements Runnable {
            private final Http2Stream stream;
            private long written;
            private long writes;
            private long unwritable;
            private long beyond;

            Pump(Http2Stream stream) {
                this.stream = stream;
            }

            @Override
            public void run() {
                Http2RemoteFlowController fc = encoder().flowController();
                for (int i = 0; i < burst && written < total; i++) {
                    long pending = pendingBytes(stream);
                    maxPending = Math.max(maxPending, pending);
                    if (!fc.isWritable(stream)) {
                        unwritable++;
                        if (pending > beyondBytes) {
                            beyond++;
                        }
                    }
                    writeIgnoring(DirectHandler.this, ctx, stream.id(), data(), written + chunk >= total);
                    written += chunk;
                    writes++;
                }
                try {
                    flush(ctx);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                if (written < total) {
                    ctx.executor().execute(this);
                } else {
                    System.out.println("SENT writes=" + writes + " unwritable=" + unwritable + " beyond=" + beyond
                            + " maxpending=" + maxPending);
                }
            }
        }

        /** The application's write: the call site the agent must name. */
        static void writeIgnoring(DirectHandler h, ChannelHandlerContext ctx, int streamId, ByteBuf data,
                                  boolean last) {
            h.encoder().writeData(ctx, streamId, data, 0, last, ctx.newPromise());
        }

        /** The respecting writer: a frame at a time while the flow controller says the stream is writable. */
        void pump() {
            Http2RemoteFlowController fc = encoder().flowController();
            while (sent >= 0 && sent < total && fc.isWritable(respecting)) {
                maxPending = Math.max(maxPending, pendingBytes(respecting));
                boolean last = sent + chunk >= total;
                encoder().writeData(ctx, respecting.id(), data(), 0, last, ctx.newPromise());
                sent += chunk;
                try {
                    flush(ctx);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            if (sent >= total) {
                System.out.println("SENT writes=" + total / chunk + " unwritable=0 beyond=0 maxpending=" + maxPending
                        + " waits=" + waits);
                sent = Long.MIN_VALUE;
            } else if (sent >= 0) {
                if (waits++ == 0) {
                    System.out.println("WAITING /respect sent=" + sent + " " + System.currentTimeMillis());
                }
            }
        }

        private ByteBuf data() {
            ByteBuf b = ctx.alloc().directBuffer(chunk);
            b.writeZero(chunk);
            return b;
        }

        /** The flow controller's own count of the stream's queued bytes (its private per-stream state). */
        long pendingBytes(Http2Stream stream) {
            try {
                Object fc = encoder().flowController();
                Field key = DefaultHttp2RemoteFlowController.class.getDeclaredField("stateKey");
                key.setAccessible(true);
                Object state = stream.getProperty((io.netty.handler.codec.http2.Http2Connection.PropertyKey) key.get(fc));
                if (state == null) {
                    return 0;
                }
                Method m = state.getClass().getDeclaredMethod("pendingBytes");
                m.setAccessible(true);
                return (Long) m.invoke(state);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}

package io.highwater.it.apps.h2;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.Version;

import javax.net.ssl.KeyManagerFactory;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A plain Netty h2c server with stream channels ({@code Http2FrameCodec} + {@code Http2MultiplexHandler}), for
 * {@code curl --http2-prior-knowledge}. {@code /ignore} writes DATA frames from an application thread without looking
 * at the stream channel's writability; {@code /respect} writes while the stream channel is writable and resumes on
 * {@code channelWritabilityChanged}. Ground truth on stdout: {@code SENT writes=.. unwritable=.. beyond=..} (writes
 * made while the stream channel was unwritable; of those, with more than {@code --beyond} bytes pending in it) and
 * {@code PENDING n} every 200 ms: what the stream channel itself counts pending (Netty's public
 * {@code bytesBeforeWritable()} plus its low-water mark while unwritable), with {@code WINDOW n t}: the connection's
 * window left (see {@link #window}) and {@code FLOW n t}: the flow controller's own count of the stream's queued bytes
 * (see {@link #flowPending}) at t, queued on the event loop at q ({@code FLOW n t queued=q}); {@code WAITING /respect
 * sent=n t} when the respecting writer first stops; {@code WRITES-RUN <what> pending=.. flow=.. behind=ms} once the
 * event loop has run every write of the ignoring writer, ms after its last (its writes from an application thread
 * wait in the loop's task queue until then, counted by the stream channel but not yet by the flow controller).
 *
 * <p>{@code --tls <PKCS#12 key store>} (password {@value #KEY_PASSWORD}): HTTP/2 over TLS instead, as production
 * serves it: the JDK's own TLS ({@code SslProvider.JDK}) offering {@code h2} by ALPN, then the same codec and
 * multiplexer installed by an {@code ApplicationProtocolNegotiationHandler} once the handshake chose {@code h2}, for
 * {@code curl --http2 -k}. It prints {@code PIPELINE <class>,...}: the connection's handlers once set up (what other
 * agents added to it shows there).
 */
public final class H2cServer {

    private static long total = 64L << 20;
    private static int chunk = 16 << 10;
    private static long beyondBytes = 128 << 10;
    private static volatile Channel current;
    /** {@code --keep-open true}: the ignoring writer never ends its stream, and writes more on {@code more <n>}. */
    private static boolean keepOpen;
    private static volatile Channel ignoringStream;
    /** The password of the key store given with {@code --tls}. */
    public static final String KEY_PASSWORD = "highwater";
    private static final ExecutorService APP = Executors.newSingleThreadExecutor();
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor();

    private H2cServer() {
    }

    public static void main(String[] args) throws Exception {
        SslContext tls = null;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--total": total = Long.parseLong(args[i + 1]); break;
                case "--chunk": chunk = Integer.parseInt(args[i + 1]); break;
                case "--beyond": beyondBytes = Long.parseLong(args[i + 1]); break;
                case "--keep-open": keepOpen = Boolean.parseBoolean(args[i + 1]); break;
                case "--tls": tls = tls(Path.of(args[i + 1])); break;
                default: throw new IllegalArgumentException(args[i]);
            }
        }
        SslContext sslContext = tls;
        EventLoopGroup group = new NioEventLoopGroup(1);
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (sslContext == null) {
                            http2(ch.pipeline());
                            return;
                        }
                        ch.pipeline().addLast(sslContext.newHandler(ch.alloc()),
                                new ApplicationProtocolNegotiationHandler("none") {
                                    @Override
                                    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                                        if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                                            throw new IllegalStateException("ALPN chose " + protocol + ", not h2");
                                        }
                                        http2(ctx.pipeline());
                                        System.out.println("PIPELINE " + handlers(ctx.pipeline()));
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        System.out.println("NETTY-VERSION " + Version.identify().get("netty-codec-http2").artifactVersion());
        System.out.println("LISTENING " + ((java.net.InetSocketAddress) server.localAddress()).getPort());
        TIMER.scheduleAtFixedRate(() -> {
            Channel c = current;
            if (c != null) {
                System.out.println("PENDING " + pending(c));
                window(c.parent());
                long queued = System.currentTimeMillis();
                c.eventLoop().execute(() -> System.out.println("FLOW " + flowPending(c) + " "
                        + System.currentTimeMillis() + " queued=" + queued));
            }
        }, 200, 200, TimeUnit.MILLISECONDS);
        if (keepOpen) {
            Thread commands = new Thread(H2cServer::commands, "commands");
            commands.setDaemon(true);
            commands.start();
        }
        server.closeFuture().sync();
    }

    /** The h2 handlers, over a cleartext connection or once TLS chose {@code h2}. */
    private static void http2(io.netty.channel.ChannelPipeline pipeline) {
        pipeline.addLast(Http2FrameCodecBuilder.forServer().build(),
                new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel stream) {
                        stream.pipeline().addLast(new StreamHandler());
                    }
                }));
    }

    /** The classes of the pipeline's handlers, in order. */
    private static String handlers(io.netty.channel.ChannelPipeline pipeline) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, io.netty.channel.ChannelHandler> e : pipeline) {
            names.add(e.getValue().getClass().getName());
        }
        return String.join(",", names);
    }

    /**
     * A server TLS context from a PKCS#12 key store on the JDK's own TLS, offering only {@code h2} by ALPN, with the
     * cipher suites HTTP/2 allows (RFC 7540, 9.2.2; Netty's list).
     */
    static SslContext tls(Path keyStore) {
        try (InputStream in = Files.newInputStream(keyStore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, KEY_PASSWORD.toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, KEY_PASSWORD.toCharArray());
            return SslContextBuilder.forServer(kmf).sslProvider(SslProvider.JDK)
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2))
                    .build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + keyStore, e);
        }
    }

    /** {@code more <n>} on stdin: the ignoring writer writes n more frames into its (still open) stream. */
    private static void commands() {
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                java.nio.charset.StandardCharsets.UTF_8));
        try {
            for (String line; (line = in.readLine()) != null; ) {
                String[] f = line.trim().split(" ");
                Channel stream = ignoringStream;
                if (f.length == 2 && f[0].equals("more") && stream != null) {
                    int n = Integer.parseInt(f[1]);
                    APP.execute(() -> StreamHandler.ignoring(stream, (long) n * chunk, "MORE"));
                }
            }
        } catch (java.io.IOException e) {
            // stdin closed: no more commands
        }
    }

    /**
     * {@code WINDOW n t}: the connection-level flow-control window the peer still grants (the remote flow controller's
     * own {@code windowSize} of the connection stream), read on the connection's event loop at wall-clock millis t.
     */
    static void window(Channel parent) {
        parent.eventLoop().execute(() -> {
            Http2FrameCodec codec = parent.pipeline().get(Http2FrameCodec.class);
            if (codec != null) {
                System.out.println("WINDOW " + codec.connection().remote().flowController()
                        .windowSize(codec.connection().connectionStream()) + " " + System.currentTimeMillis());
            }
        });
    }

    /**
     * The remote flow controller's own count of the stream's queued bytes ({@code FlowState.pendingBytes()}, private,
     * read reflectively as a test may; on the event loop): what a write made off the loop adds once its task ran.
     */
    static long flowPending(Channel stream) {
        Http2FrameCodec codec = stream.parent().pipeline().get(Http2FrameCodec.class);
        if (codec == null || !(stream instanceof Http2StreamChannel)) {
            return -1;
        }
        Http2Stream s = codec.connection().stream(((Http2StreamChannel) stream).stream().id());
        if (s == null) {
            return 0;
        }
        try {
            Object fc = codec.connection().remote().flowController();
            Field key = DefaultHttp2RemoteFlowController.class.getDeclaredField("stateKey");
            key.setAccessible(true);
            Object state = s.getProperty((Http2Connection.PropertyKey) key.get(fc));
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

    /** What the stream channel counts pending, from its public API: exact while unwritable, else below the mark. */
    static long pending(Channel c) {
        return c.isWritable() ? 0 : c.bytesBeforeWritable() + c.config().getWriteBufferLowWaterMark() - 1;
    }

    static final class StreamHandler extends ChannelInboundHandlerAdapter {
        private long sent;
        private boolean respecting;
        private boolean waited;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame && ((Http2HeadersFrame) msg).isEndStream()) {
                    String path = String.valueOf(((Http2HeadersFrame) msg).headers().path());
                    current = ctx.channel();
                    System.out.println("STREAM-PIPELINE " + handlers(ctx.pipeline()));
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                    if (path.startsWith("/ignore")) {
                        APP.execute(() -> ignoring(ctx.channel(), total, "SENT"));
                    } else {
                        respecting = true;
                        pump(ctx);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        /** Writes {@code bytes} without looking; prints {@code <what> writes=.. unwritable=.. beyond=..}. */
        static void ignoring(Channel stream, long bytes, String what) {
            ignoringStream = stream;
            long writes = 0;
            long unwritable = 0;
            long beyond = 0;
            long firstBeyond = -1;
            for (long n = 0; n < bytes; n += chunk) {
                if (!stream.isWritable()) {
                    unwritable++;
                    if (pending(stream) > beyondBytes) {
                        beyond++;
                        firstBeyond = firstBeyond < 0 ? writes : firstBeyond;
                    }
                }
                writeIgnoring(stream, data(stream, !keepOpen && n + chunk >= bytes));
                writes++;
            }
            System.out.println(what + " writes=" + writes + " unwritable=" + unwritable + " beyond=" + beyond
                    + " firstBeyond=" + firstBeyond);
            // a task queued on the event loop after the writes runs after them: from here the flow controller holds
            // every byte written (a write made off the loop waits in the loop's task queue until then)
            long end = System.currentTimeMillis();
            stream.eventLoop().execute(() -> System.out.println("WRITES-RUN " + what + " pending=" + pending(stream)
                    + " flow=" + flowPending(stream) + " behind=" + (System.currentTimeMillis() - end)));
        }

        static void writeIgnoring(Channel stream, Object frame) {
            stream.writeAndFlush(frame);
        }

        private void pump(ChannelHandlerContext ctx) {
            while (sent < total && ctx.channel().isWritable()) {
                ctx.write(data(ctx.channel(), sent + chunk >= total));
                sent += chunk;
            }
            ctx.flush();
            if (sent >= 0 && sent < total && !waited) {
                // the first stop: from here the writer waits for channelWritabilityChanged
                waited = true;
                System.out.println("WAITING /respect sent=" + sent + " " + System.currentTimeMillis());
            }
            if (sent >= total) {
                System.out.println("SENT writes=" + total / chunk + " unwritable=0 beyond=0");
                sent = Long.MIN_VALUE;
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (respecting && sent >= 0 && ctx.channel().isWritable()) {
                pump(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        private static DefaultHttp2DataFrame data(Channel stream, boolean last) {
            ByteBuf b = stream.alloc().directBuffer(chunk);
            b.writeZero(chunk);
            return new DefaultHttp2DataFrame(b, last);
        }
    }
}

package io.highwater.it.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.CharsetUtil;
import io.netty.util.Version;

import javax.net.ssl.KeyManagerFactory;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A streaming "export" HTTP server on Netty, run in a child JVM with the agent attached. Uses only Netty and the
 * JDK; compiled against the Netty 4.1 API and run on 4.1 or 4.2.
 *
 * <p>Arguments: {@code --transport nio|epoll} (epoll fails loudly when unavailable), {@code --sndbuf <bytes>}
 * (pins SO_SNDBUF of accepted connections; the OS default otherwise), {@code --tls <PKCS#12 key store>} (an
 * {@code SslHandler} in front of everything, on the JDK's TLS), {@code --compress} (an {@code HttpContentCompressor}
 * behind the codec: gzip for clients that accept it). Binds 127.0.0.1 on a free port and prints,
 * in this order, {@code NETTY-VERSION <v>}, {@code CHANNEL <server channel class>}, {@code HEAP-MAX <bytes>} and
 * {@code LISTENING <port>} on stdout.
 *
 * <p>Every response is {@code 200} with {@code Content-Length} = the total, then the body as
 * {@link DefaultHttpContent} chunks (with a Content-Length each application write is exactly one entry in Netty's
 * outbound buffer), then {@link LastHttpContent#EMPTY_LAST_CONTENT}, then the connection is closed. The write
 * buffer water marks are set explicitly to Netty's defaults, 32 KiB low / 64 KiB high. Query parameters:
 * {@code bytes} (the total), {@code chunk} (the size of one write), {@code chunked=true} (chunked transfer encoding
 * instead of a Content-Length: the codec adds framing around every write) and {@code random=true} (incompressible
 * content). The ignoring and respecting writers print their own count of content writes made beyond the agent's
 * default tolerance ({@link GroundTruth}) when they are done.
 * <ul>
 *   <li>{@code /ignore} (16 MiB in 16 KiB writes): {@link #writeIgnoring} writes everything on the event loop and
 *       never looks at {@code isWritable()} — the bug.</li>
 *   <li>{@code /ignore-offloop} (same sizes): {@link #writeIgnoringFromAppThread} does the same from an
 *       application thread (a plain executor, not the event loop) with {@code writeAndFlush}.</li>
 *   <li>{@code /respect} (4 MiB in 16 KiB writes): {@link #writeRespecting} writes only while the channel is
 *       writable and continues from {@code channelWritabilityChanged} — the fix. Even the empty last content waits
 *       for writability.</li>
 *   <li>{@code /single} (1 MiB): one buffer of {@code bytes}, written while the channel is writable; the empty last
 *       content follows at once, as any Netty HTTP server ends a response.</li>
 *   <li>{@code /ignore-paced} (1 GiB in 16 KiB writes at {@code rate} bytes per second, 1 MB/s by default):
 *       {@link #writePaced} writes on the event loop from tasks scheduled every {@value #PACE_TICK_MS} ms, never
 *       looking at {@code isWritable()}, until everything is written or the connection closes — a bug that is
 *       still writing whenever an agent is attached. When a buffer cannot be allocated it stops and prints
 *       {@code APP-OUT-OF-DIRECT-MEMORY <error>} on stderr.</li>
 *   <li>{@code /ignore-heap} (1 GiB in 64 KiB writes at {@code rate} bytes per second, 40 MB/s by default):
 *       {@link #writeHeapIgnoring} writes from an application thread of its own, every chunk a fresh array on the
 *       heap, never looking at {@code isWritable()}: the pile-up fills the heap. When an allocation fails, the
 *       writer stops (the connection keeps what piled up), lets go of a 2 MiB cushion it held, so that Netty's event
 *       loop survives, and prints {@code APP-OUT-OF-MEMORY} on stderr (trying again until the line is out); when the
 *       connection closes first, it prints {@code HEAP-WRITER-STOPPED pendingMax=<the most Netty's
 *       totalPendingWriteBytes showed before a write> written=<bytes>} on stdout, and the first write that failed as
 *       {@code HEAP-WRITE-FAILED <cause>}. Run
 *       with {@code -Dio.netty.allocator.type=unpooled}: otherwise an NIO channel copies heap buffers into pooled
 *       direct ones.</li>
 *   <li>{@code /hog?leave=<bytes>}: fills the heap with arrays held by the application until allocation fails,
 *       then lets go of about {@code leave} bytes (256 KiB by default), and answers {@code HOG <bytes held>};
 *       {@code /hog-release} lets go of all of it and answers {@code RELEASED <bytes>}. Both answered on the event
 *       loop. An {@code R} on stdin releases it too, printing {@code RELEASED <bytes>}: that needs no heap.</li>
 *   <li>{@code /threads}: the names of the process's live threads, one per line, sorted. With
 *       {@code join=<prefix>,<prefix>}, first waits (up to 10 s each, {@link Thread#join}) for the threads whose
 *       names start with one of the prefixes to end. Answered from an application thread.</li>
 * </ul>
 */
public final class NettyExportServer {

    public static final int LOW_WATER_MARK = 32 * 1024;
    /** The password of the key store given with {@code --tls}. */
    public static final String KEY_PASSWORD = "highwater";
    public static final int HIGH_WATER_MARK = 64 * 1024;
    static final int KIB = 1024;
    static final int MIB = 1024 * 1024;
    /** {@code /ignore} flushes after this many writes. */
    static final int FLUSH_EVERY = 16;
    /** {@code /ignore-paced} writes what is due this often. */
    static final long PACE_TICK_MS = 10;

    private static final byte[] PATTERN = new byte[64 * KIB];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = (byte) ('a' + i % 26);
        }
    }

    /** What the heap writer lets go of when it runs out of memory; a field, so that it stays reachable till then. */
    private static volatile byte[] heapWriterCushion;
    /** What {@code /hog} holds. */
    private static final List<byte[]> HOG = new java.util.ArrayList<>(1 << 16);
    /** Application threads for {@code /ignore-offloop}: deliberately not Netty threads. */
    private static final ExecutorService APP_THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "export-app-thread");
        t.setDaemon(true);
        return t;
    });

    private NettyExportServer() {
    }

    public static void main(String[] args) throws Exception {
        Channel server = start(args);
        Thread releaser = new Thread(NettyExportServer::releaseHogOnStdin, "hog-release-on-stdin");
        releaser.setDaemon(true);
        releaser.start();
        server.closeFuture().sync();
    }

    /**
     * The hog's release without a request: reading and answering an HTTP request needs heap, which a full heap may
     * not give the event loop, while one byte read from stdin and a cleared list need none.
     */
    private static void releaseHogOnStdin() {
        try {
            for (int c = System.in.read(); c >= 0; c = System.in.read()) {
                if (c == 'R') {
                    long held = 0;
                    synchronized (HOG) {
                        for (byte[] b : HOG) {
                            held += b.length;
                        }
                        HOG.clear();
                    }
                    System.out.println("RELEASED " + held);
                }
            }
        } catch (java.io.IOException closed) {
            // no more stdin: nothing to release on
        }
    }

    /** Starts the server as {@link #main} does, prints the announcement lines and returns the bound channel. */
    // Netty 4.2 deprecates the transport-specific event loop groups; this server runs on 4.1 and 4.2 alike
    @SuppressWarnings("deprecation")
    public static Channel start(String[] args) throws InterruptedException {
        String transport = "nio";
        Integer sndbuf = null;
        SslContext tls = null;
        boolean compress = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--transport":
                    transport = args[++i];
                    break;
                case "--sndbuf":
                    sndbuf = Integer.parseInt(args[++i]);
                    break;
                case "--tls":
                    tls = tls(Path.of(args[++i]));
                    break;
                case "--compress":
                    compress = true;
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        EventLoopGroup boss;
        EventLoopGroup workers;
        Class<? extends ServerChannel> channelClass;
        switch (transport) {
            case "nio":
                boss = new NioEventLoopGroup(1);
                workers = new NioEventLoopGroup(2);
                channelClass = NioServerSocketChannel.class;
                break;
            case "epoll":
                if (!Epoll.isAvailable()) {
                    System.err.println("EPOLL-UNAVAILABLE " + Epoll.unavailabilityCause());
                    Epoll.unavailabilityCause().printStackTrace();
                    System.exit(2);
                }
                boss = new EpollEventLoopGroup(1);
                workers = new EpollEventLoopGroup(2);
                channelClass = EpollServerSocketChannel.class;
                break;
            default:
                throw new IllegalArgumentException("--transport nio|epoll, not " + transport);
        }
        SslContext sslContext = tls;
        boolean compression = compress;
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelClass)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(LOW_WATER_MARK, HIGH_WATER_MARK))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (sslContext != null) {
                            ch.pipeline().addLast(sslContext.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec());
                        if (compression) {
                            ch.pipeline().addLast(new HttpContentCompressor());
                        }
                        ch.pipeline().addLast(new HttpObjectAggregator(64 * KIB), new ExportHandler());
                    }
                });
        if (sndbuf != null) {
            b.childOption(ChannelOption.SO_SNDBUF, sndbuf);
        }
        Channel server = b.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        server.closeFuture().addListener(f -> {
            boss.shutdownGracefully();
            workers.shutdownGracefully();
        });
        System.out.println("NETTY-VERSION " + nettyVersion());
        System.out.println("CHANNEL " + server.getClass().getName());
        System.out.println("HEAP-MAX " + Runtime.getRuntime().maxMemory());
        System.out.println("LISTENING " + ((InetSocketAddress) server.localAddress()).getPort());
        System.out.flush();
        return server;
    }

    /**
     * The version of the Netty this runs on. A copy relocated by a shade (grpc-netty-shaded) renames its versions file
     * after its new package, {@code META-INF/io.grpc.netty.shaded.io.netty.versions.properties}, where Netty's own
     * {@code Version} does not look.
     */
    static String nettyVersion() {
        Version common = Version.identify().get("netty-common");
        if (common != null) {
            return common.artifactVersion();
        }
        String name = Channel.class.getName();
        String file = "META-INF/" + name.substring(0, name.indexOf("io.netty.")) + "io.netty.versions.properties";
        try (InputStream in = NettyExportServer.class.getClassLoader().getResourceAsStream(file)) {
            if (in != null) {
                java.util.Properties p = new java.util.Properties();
                p.load(in);
                return p.getProperty("netty-common.version", "unknown");
            }
        } catch (java.io.IOException e) {
            // unknown
        }
        return "unknown";
    }

    /** A server TLS context from a PKCS#12 key store (password {@value #KEY_PASSWORD}), on the JDK's own TLS. */
    static SslContext tls(Path keyStore) {
        try (InputStream in = Files.newInputStream(keyStore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, KEY_PASSWORD.toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, KEY_PASSWORD.toCharArray());
            return SslContextBuilder.forServer(kmf).sslProvider(SslProvider.JDK).build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + keyStore, e);
        }
    }

    /**
     * The application's own count, the ground truth the tests compare the agent with: of one response's content
     * writes, how many were made while the channel's pending bytes (Netty's own count, read just before the call)
     * were beyond the agent's default tolerance, more than twice the high-water mark. Printed as
     * {@code WRITES <port> total=<n> beyond=<b>} once the writer is done, {@code <port>} being the client's.
     */
    static final class GroundTruth {
        final Channel channel;
        long total;
        long beyond;

        GroundTruth(Channel channel) {
            this.channel = channel;
        }

        /** Call just before each content write. */
        void beforeWrite() {
            total++;
            ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
            if (buffer != null && buffer.totalPendingWriteBytes() > 2L * HIGH_WATER_MARK) {
                beyond++;
            }
        }

        void print() {
            System.out.println("WRITES " + ((InetSocketAddress) channel.remoteAddress()).getPort() + " total=" + total
                    + " beyond=" + beyond);
            System.out.flush();
        }
    }

    // ---------------------------------------------------------------- the writers under test

    /** The bug: writes every chunk on the event loop, flushing now and then, never asking {@code isWritable()}. */
    static void writeIgnoring(ChannelHandlerContext ctx, long total, int chunk, Body body) {
        GroundTruth truth = new GroundTruth(ctx.channel());
        ctx.write(head(total, body.chunked));
        long left = total;
        int writes = 0;
        while (left > 0) {
            int size = (int) Math.min(chunk, left);
            ByteBuf content = body.chunk(ctx.alloc(), size);
            truth.beforeWrite();
            ctx.write(new DefaultHttpContent(content));
            left -= size;
            if (++writes % FLUSH_EVERY == 0) {
                ctx.flush();
            }
        }
        truth.print();
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    }

    /** The same bug on an application thread: every chunk goes through {@code writeAndFlush} from outside Netty. */
    static void writeIgnoringFromAppThread(Channel channel, long total, int chunk) {
        GroundTruth truth = new GroundTruth(channel);
        channel.write(head(total));
        long left = total;
        while (left > 0) {
            int size = (int) Math.min(chunk, left);
            ByteBuf content = chunk(channel.alloc(), size);
            truth.beforeWrite();
            channel.writeAndFlush(new DefaultHttpContent(content));
            left -= size;
        }
        truth.print();
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * The fix: writes only while the channel is writable; {@link ExportHandler#channelWritabilityChanged} calls it
     * again once Netty's outbound buffer drained below the low water mark. Runs on the event loop.
     */
    static void writeRespecting(ChannelHandlerContext ctx, Streaming s) {
        Channel ch = ctx.channel();
        boolean wrote = false;
        while (!s.done && ch.isActive() && ch.isWritable()) {
            if (s.left == 0) {
                s.done = true;
                s.truth.print();
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            int size = (int) Math.min(s.chunk, s.left);
            ByteBuf content = s.body.chunk(ctx.alloc(), size);
            s.truth.beforeWrite();
            ctx.write(new DefaultHttpContent(content));
            s.left -= size;
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    /** One buffer of {@code total} bytes, written while the channel is writable. */
    static void writeSingle(ChannelHandlerContext ctx, long total) {
        if (!ctx.channel().isWritable()) {
            // never expected on a fresh connection: make it visible rather than quietly change the scenario
            System.err.println("SINGLE-NOT-WRITABLE " + ctx.channel());
        }
        ctx.write(head(total));
        ctx.write(new DefaultHttpContent(chunk(ctx.alloc(), (int) total)));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * The bug, paced: on the event loop, writes (and flushes) whatever is due at the stream's rate, then schedules
     * itself again; never asks {@code isWritable()}. Stops when the connection is no longer active.
     */
    static void writePaced(ChannelHandlerContext ctx, Paced p) {
        if (!ctx.channel().isActive()) {
            return;
        }
        long due = Math.min(p.total, (long) ((System.nanoTime() - p.startNanos) / 1e9 * p.rate));
        boolean wrote = false;
        while (p.written < due) {
            int size = (int) Math.min(p.chunk, p.total - p.written);
            ByteBuf content;
            try {
                content = chunk(ctx.alloc(), size);
            } catch (OutOfMemoryError full) {
                // a scheduled task's failure goes to its future, which nobody reads: said here, for the guard's tests
                System.err.println("APP-OUT-OF-DIRECT-MEMORY " + full);
                return;
            }
            ctx.write(new DefaultHttpContent(content));
            p.written += size;
            wrote = true;
        }
        if (p.written >= p.total) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (wrote) {
            ctx.flush();
        }
        ctx.executor().schedule(() -> writePaced(ctx, p), PACE_TICK_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * {@code /ignore-heap}: the bug on a thread of its own, paced, with heap buffers, until the heap is full. The
     * allocation that fails is this thread's, so it knows, and says so (see the class comment).
     */
    static void writeHeapIgnoring(Channel channel, long rate) {
        channel.writeAndFlush(head(1024L * MIB));
        // let go when this thread runs out of memory: the write tasks it already handed to the event loop, and the
        // event loop itself, must still find a little room, or Netty's event loop thread dies and the connection
        // can never be closed again (the heap stays nearly full all the same)
        heapWriterCushion = new byte[2 * MIB];
        long start = System.nanoTime();
        long written = 0;
        // the ground truth for the guard's tests: the most Netty's own count showed just before a write
        long pendingMax = 0;
        // the first write that failed, said once: what the application's listener sees
        java.util.concurrent.atomic.AtomicBoolean failureSaid = new java.util.concurrent.atomic.AtomicBoolean();
        ChannelFutureListener onFailure = f -> {
            if (!f.isSuccess() && failureSaid.compareAndSet(false, true)) {
                System.out.println("HEAP-WRITE-FAILED " + f.cause());
                System.out.flush();
            }
        };
        try {
            while (channel.isActive()) {
                ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
                if (buffer != null) {
                    pendingMax = Math.max(pendingMax, buffer.totalPendingWriteBytes());
                }
                channel.writeAndFlush(new DefaultHttpContent(heapChunk(64 * KIB))).addListener(onFailure);
                written += 64 * KIB;
                long ahead = start + (long) (written * 1e9 / rate) - System.nanoTime();
                if (ahead > 0) {
                    // pacing the writer, not waiting for anything
                    java.util.concurrent.locks.LockSupport.parkNanos(ahead);
                }
            }
            System.out.println("HEAP-WRITER-STOPPED pendingMax=" + pendingMax + " written=" + written);
            System.out.flush();
        } catch (OutOfMemoryError full) {
            // the heap is full: stop writing; what piled up stays with the connection until it closes
            heapWriterCushion = null;
            while (true) {
                try {
                    System.err.println("APP-OUT-OF-MEMORY");
                    return;
                } catch (Throwable stillFull) {
                    java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
                }
            }
        }
    }

    /** {@code /hog}: see the class comment. */
    static void answerHog(Channel channel, long leave) {
        answerText(channel, "HOG " + fillHeap(leave) + "\n");
    }

    /** Fills the heap with arrays the application holds, then lets go of about {@code leave} bytes of them. */
    static long fillHeap(long leave) {
        long held = 0;
        synchronized (HOG) {
            for (int size : new int[] {1024 * KIB, 64 * KIB, 4 * KIB, 256}) {
                try {
                    while (true) {
                        HOG.add(new byte[size]);
                        held += size;
                    }
                } catch (OutOfMemoryError full) {
                    // on to smaller arrays
                }
            }
            for (long back = 0; back < leave && !HOG.isEmpty(); ) {
                int n = HOG.remove(HOG.size() - 1).length;
                back += n;
                held -= n;
            }
        }
        return held;
    }

    /** {@code /hog-release}: see the class comment. */
    static void answerHogRelease(Channel channel) {
        long held = 0;
        synchronized (HOG) {
            for (byte[] b : HOG) {
                held += b.length;
            }
            HOG.clear();
        }
        answerText(channel, "RELEASED " + held + "\n");
    }

    private static void answerText(Channel channel, String text) {
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.content().writeCharSequence(text, CharsetUtil.UTF_8);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        HttpUtil.setContentLength(r, r.content().readableBytes());
        channel.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    /** {@code /threads}: see the class comment. Runs on an application thread. */
    static void answerThreads(Channel channel, List<String> joinPrefixes) {
        if (!joinPrefixes.isEmpty()) {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t != Thread.currentThread() && joinPrefixes.stream().anyMatch(t.getName()::startsWith)) {
                    try {
                        t.join(10_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        String names = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted()
                .collect(Collectors.joining("\n", "", "\n"));
        answerText(channel, names);
    }

    // ---------------------------------------------------------------- plumbing

    static HttpResponse head(long total) {
        return head(total, false);
    }

    /** The response head: {@code Content-Length: total}, or chunked transfer encoding (the length unsaid). */
    static HttpResponse head(long total, boolean chunked) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        if (chunked) {
            HttpUtil.setTransferEncodingChunked(r, true);
        } else {
            HttpUtil.setContentLength(r, total);
        }
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return r;
    }

    /** A buffer of {@code size} readable bytes on the heap, a fresh array: collected once the connection lets go. */
    static ByteBuf heapChunk(int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i += PATTERN.length) {
            System.arraycopy(PATTERN, 0, bytes, i, Math.min(PATTERN.length, size - i));
        }
        return Unpooled.wrappedBuffer(bytes);
    }

    /** A buffer of {@code size} readable bytes from the channel's allocator (pooled, direct by default). */
    static ByteBuf chunk(ByteBufAllocator alloc, int size) {
        ByteBuf buf = alloc.directBuffer(size);
        int left = size;
        while (left > 0) {
            int n = Math.min(left, PATTERN.length);
            buf.writeBytes(PATTERN, 0, n);
            left -= n;
        }
        return buf;
    }

    /**
     * How a response's body is sent: {@code chunked=true} (query) uses chunked transfer encoding, so the HTTP codec
     * frames every content write with a chunk header and a trailing CRLF; {@code random=true} fills it with
     * pseudo-random bytes, which compression cannot shrink.
     */
    static final class Body {
        final boolean chunked;
        final boolean random;
        private final java.util.Random rnd = new java.util.Random(42);

        Body(boolean chunked, boolean random) {
            this.chunked = chunked;
            this.random = random;
        }

        ByteBuf chunk(ByteBufAllocator alloc, int size) {
            if (!random) {
                return NettyExportServer.chunk(alloc, size);
            }
            byte[] bytes = new byte[size];
            rnd.nextBytes(bytes);
            ByteBuf buf = alloc.directBuffer(size);
            buf.writeBytes(bytes);
            return buf;
        }
    }

    /** The state of one {@code /respect} response. Event-loop confined. */
    static final class Streaming {
        final int chunk;
        final Body body;
        final GroundTruth truth;
        long left;
        boolean done;

        Streaming(long total, int chunk, Body body, Channel channel) {
            this.left = total;
            this.chunk = chunk;
            this.body = body;
            this.truth = new GroundTruth(channel);
        }
    }

    /** The state of one {@code /ignore-paced} response. Event-loop confined. */
    static final class Paced {
        final long total;
        final int chunk;
        final long rate;
        final long startNanos = System.nanoTime();
        long written;

        Paced(long total, int chunk, long rate) {
            this.total = total;
            this.chunk = chunk;
            this.rate = rate;
        }
    }

    /** Routes one request per connection. Not sharable: it holds the connection's {@link Streaming} state. */
    static final class ExportHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private Streaming streaming;
        private boolean answered;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (answered) {
                return; // Connection: close — one response per connection
            }
            answered = true;
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            Body body = new Body(flag(q, "chunked"), flag(q, "random"));
            switch (q.path()) {
                case "/ignore":
                    writeIgnoring(ctx, param(q, "bytes", 16L * MIB), (int) param(q, "chunk", 16 * KIB), body);
                    break;
                case "/ignore-offloop": {
                    long total = param(q, "bytes", 16L * MIB);
                    int chunk = (int) param(q, "chunk", 16 * KIB);
                    Channel channel = ctx.channel();
                    APP_THREADS.execute(() -> writeIgnoringFromAppThread(channel, total, chunk));
                    break;
                }
                case "/respect":
                    streaming = new Streaming(param(q, "bytes", 4L * MIB), (int) param(q, "chunk", 16 * KIB), body,
                            ctx.channel());
                    ctx.write(head(streaming.left, body.chunked));
                    writeRespecting(ctx, streaming);
                    break;
                case "/single":
                    writeSingle(ctx, param(q, "bytes", MIB));
                    break;
                case "/ignore-paced": {
                    Paced p = new Paced(param(q, "bytes", 1024L * MIB), (int) param(q, "chunk", 16 * KIB),
                            param(q, "rate", 1_000_000));
                    ctx.write(head(p.total));
                    writePaced(ctx, p);
                    break;
                }
                case "/ignore-heap": {
                    long rate = param(q, "rate", 40_000_000);
                    Channel channel = ctx.channel();
                    // a thread of its own, started while memory is plentiful
                    Thread writer = new Thread(() -> writeHeapIgnoring(channel, rate), "app-heap-writer");
                    writer.setDaemon(true);
                    writer.start();
                    break;
                }
                case "/hog": {
                    // on the event loop: a pool thread that must be started (or, on JDK 17, wait) in a full heap
                    // may fail
                    answerHog(ctx.channel(), param(q, "leave", 256 * KIB));
                    break;
                }
                case "/hog-release": {
                    answerHogRelease(ctx.channel());
                    break;
                }
                case "/threads": {
                    List<String> join = q.parameters().getOrDefault("join", List.of()).stream()
                            .flatMap(v -> Arrays.stream(v.split(","))).filter(v -> !v.isEmpty())
                            .collect(Collectors.toList());
                    Channel channel = ctx.channel();
                    APP_THREADS.execute(() -> answerThreads(channel, join));
                    break;
                }
                default:
                    DefaultFullHttpResponse notFound = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.NOT_FOUND);
                    notFound.content().writeCharSequence("no such endpoint: " + q.path() + "\n", CharsetUtil.UTF_8);
                    HttpUtil.setContentLength(notFound, notFound.content().readableBytes());
                    ctx.writeAndFlush(notFound).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            if (streaming != null && ctx.channel().isWritable()) {
                writeRespecting(ctx, streaming);
            }
            super.channelWritabilityChanged(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (streaming != null) {
                streaming.done = true;
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a client that goes away mid-response is part of the scenarios: close quietly
            ctx.close();
        }

        private static boolean flag(QueryStringDecoder q, String name) {
            List<String> v = q.parameters().get(name);
            return v != null && !v.isEmpty() && Boolean.parseBoolean(v.get(0));
        }

        private static long param(QueryStringDecoder q, String name, long dflt) {
            List<String> v = q.parameters().get(name);
            return v == null || v.isEmpty() ? dflt : Long.parseLong(v.get(0));
        }
    }
}

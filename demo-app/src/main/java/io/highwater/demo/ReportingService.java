package io.highwater.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.Version;
import io.netty.util.internal.OutOfDirectMemoryError;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The demo's "reporting service": a Netty HTTP/1.1 server that streams a generated CSV export
 * ({@link CsvExport}) in two ways.
 *
 * <ul>
 *   <li>{@code GET /export/ignoring?bytes=N} — the bug. {@link #writeRowsIgnoringBackpressure} generates rows on
 *       the event loop as fast as it can and writes them without ever asking {@link Channel#isWritable()}. It works
 *       in 1 MiB bursts, re-queued on the event loop so that other connections are still served; the bytes a slow
 *       client has not read pile up in Netty's outbound buffer, in direct memory, until the allocator or a write
 *       fails with {@link OutOfDirectMemoryError}. Then it prints one line containing {@link #FAILURE_MARKER} and
 *       closes that connection. The process survives: Netty fails the allocation or the write promise, it does not
 *       kill the JVM.</li>
 *   <li>{@code GET /export/respecting?bytes=N} — the fix. {@link #writeRowsRespectingBackpressure} writes only
 *       while the channel is writable and resumes from {@code channelWritabilityChanged}; what the process holds
 *       for the client stays near the high-water mark.</li>
 *   <li>{@code GET /health} — {@code 200 ok}, to show the process still serves.</li>
 * </ul>
 *
 * Both export endpoints take an optional {@code rate} (bytes generated per second, e.g. {@code rate=2m}; default
 * unlimited): rows are then produced no faster than that, so the bytes the ignoring endpoint piles up grow at a
 * predictable pace (tests that wait for an alert or attach mid-way use it). A paced writer waits on a timer of its
 * event loop; the ignoring one still never asks {@link Channel#isWritable()}.
 *
 * Responses carry a {@code Content-Length}; the body is sent in ~16 KiB direct buffers from {@code ctx.alloc()}.
 * All export state belongs to the connection's event loop; the status printer only reads it.
 */
public final class ReportingService implements AutoCloseable {
    /** The service prints this phrase (once per failed connection) when direct memory runs out. */
    public static final String FAILURE_MARKER = "direct memory exhausted";
    /** The service prints {@code LISTENING <port>} on stdout once it accepts connections. */
    public static final String LISTENING = "LISTENING ";
    /** And {@code SERVLET-LISTENING <port>} once its servlet endpoints ({@link ServletService}) accept them. */
    public static final String SERVLET_LISTENING = "SERVLET-LISTENING ";
    /** And {@code SOCKET-LISTENING <port>} once its plain-socket endpoint ({@link SocketService}) accepts them. */
    public static final String SOCKET_LISTENING = "SOCKET-LISTENING ";

    static final long DEFAULT_EXPORT_BYTES = 400L << 20;
    static final int CHUNK_SIZE = 16 * 1024;
    /** The ignoring endpoint writes this many chunks (1 MiB) per event-loop task before re-queuing itself. */
    static final int IGNORING_BURST_CHUNKS = 64;

    private static final String USAGE = String.join("\n",
            "usage: java -jar highwater-demo.jar serve [options]",
            "  --port N               port to listen on (default 8080; 0 picks a free one)",
            "  --host ADDR            address to bind (default 127.0.0.1)",
            "  --transport T          auto | epoll | nio (default auto: epoll when available)",
            "  --status-interval D    print direct memory and open exports every D while exports run (default 5s;"
                    + " 0 = off)",
            "  --low-water SIZE       write buffer low-water mark (default 32k)",
            "  --high-water SIZE      write buffer high-water mark (default 64k)",
            "  --servlet-port N       port of the servlet endpoints on embedded Tomcat (default: --port + 1, or a free"
                    + " one with --port 0; -1 = off)",
            "  --socket-port N        port of the plain-socket endpoint (default: --port + 2, or a free one with"
                    + " --port 0; -1 = off)",
            "endpoints: /export/respecting?bytes=N  /export/ignoring?bytes=N  (default 400m)  /health",
            "  &rate=R on either export: generate at most R bytes per second (e.g. rate=2m; default unlimited)",
            "servlet endpoints: /servlet/blocking?bytes=N  /servlet/respecting?bytes=N  /servlet/ignoring?bytes=N",
            "socket endpoint (java.net.ServerSocket, a thread per connection): /socket/export?bytes=N",
            "prints 'LISTENING <port>' (and 'SERVLET-LISTENING <port>', 'SOCKET-LISTENING <port>') on stdout once it"
                    + " accepts connections; runs until stopped");

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final String transport;
    private final WriteBufferWaterMark waterMark;
    private final Set<Export> openExports = ConcurrentHashMap.newKeySet();
    private final AtomicInteger exportIds = new AtomicInteger();
    private final ScheduledExecutorService statusPrinter;

    /** How the service is started; defaults match {@code serve} without options. */
    public static final class Config {
        String host = "127.0.0.1";
        int port = 8080;
        String transport = "auto";
        long statusIntervalNanos = TimeUnit.SECONDS.toNanos(5);
        int lowWater = 32 * 1024;
        int highWater = 64 * 1024;

        public Config port(int port) {
            this.port = port;
            return this;
        }

        public Config transport(String transport) {
            this.transport = transport;
            return this;
        }

        public Config statusInterval(long nanos) {
            this.statusIntervalNanos = nanos;
            return this;
        }
    }

    public static void main(String[] args) {
        System.exit(serve(args));
    }

    /** The {@code serve} sub-command: starts the service and runs until the process is stopped. */
    static int serve(String[] args) {
        Config config = new Config();
        int servletPort;
        int socketPort;
        try {
            Args a = Args.parse(args,
                    Args.names("port", "host", "transport", "status-interval", "low-water", "high-water",
                            "servlet-port", "socket-port"),
                    Args.names("help"));
            if (a.has("help")) {
                System.out.println(USAGE);
                return 0;
            }
            config.port = a.integer("port", config.port);
            config.host = a.get("host", config.host);
            config.transport = a.get("transport", config.transport);
            config.statusIntervalNanos = a.nanos("status-interval", "5s");
            config.lowWater = (int) a.size("low-water", "32k");
            config.highWater = (int) a.size("high-water", "64k");
            servletPort = a.integer("servlet-port", config.port == 0 ? 0 : config.port + 1);
            socketPort = a.integer("socket-port", config.port == 0 ? 0 : config.port + 2);
        } catch (IllegalArgumentException e) {
            System.err.println("serve: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        ReportingService service;
        try {
            service = start(config);
        } catch (Exception e) {
            System.err.println("serve: could not start: " + e);
            return 1;
        }
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(service::close, "reporting-service-shutdown"));
        } catch (IllegalStateException shuttingDown) {
            service.close(); // stopped while starting
            return 0;
        }
        ServletService servlets = null;
        if (servletPort >= 0) {
            try {
                servlets = ServletService.start(config.host, servletPort);
            } catch (Exception e) {
                System.err.println("serve: could not start the servlet endpoints: " + e);
                service.close();
                return 1;
            }
            ServletService stop = servlets;
            Runtime.getRuntime().addShutdownHook(new Thread(stop::close, "servlet-service-shutdown"));
            say("servlet endpoints on " + ServletService.version() + " (embedded): /servlet/blocking (the request"
                    + " thread waits)  /servlet/respecting (async, honours isReady())  /servlet/ignoring (async,"
                    + " does not)");
        }
        SocketService sockets = null;
        if (socketPort >= 0) {
            try {
                sockets = SocketService.start(config.host, socketPort);
            } catch (IOException | RuntimeException e) {
                System.err.println("serve: could not start the socket endpoint: " + e);
                if (servlets != null) {
                    servlets.close();
                }
                service.close();
                return 1;
            }
            SocketService stop = sockets;
            Runtime.getRuntime().addShutdownHook(new Thread(stop::close, "socket-service-shutdown"));
            say("socket endpoint on java.net.ServerSocket, a thread per connection: /socket/export (blocking writes"
                    + " through a BufferedOutputStream)");
        }
        say(LISTENING + service.port());
        if (servlets != null) {
            say(SERVLET_LISTENING + servlets.port());
        }
        if (sockets != null) {
            say(SOCKET_LISTENING + sockets.port());
        }
        service.serverChannel.closeFuture().syncUninterruptibly();
        return 0;
    }

    /** Starts a service; the caller prints nothing more and owns {@link #close()}. */
    public static ReportingService start(Config config) throws InterruptedException {
        return new ReportingService(config);
    }

    private ReportingService(Config config) throws InterruptedException {
        IoHandlerFactory ioHandler;
        Class<? extends ServerChannel> channelType;
        String why;
        boolean epoll = !"nio".equalsIgnoreCase(config.transport) && Epoll.isAvailable();
        if ("epoll".equalsIgnoreCase(config.transport) && !epoll) {
            throw new IllegalStateException("epoll transport requested but unavailable: " + Epoll.unavailabilityCause());
        }
        if (epoll) {
            ioHandler = EpollIoHandler.newFactory();
            channelType = EpollServerSocketChannel.class;
            transport = "epoll";
            why = "native transport available";
        } else {
            ioHandler = NioIoHandler.newFactory();
            channelType = NioServerSocketChannel.class;
            transport = "nio";
            why = "nio".equalsIgnoreCase(config.transport) ? "asked for with --transport nio"
                    : "epoll unavailable: " + Epoll.unavailabilityCause();
        }
        waterMark = new WriteBufferWaterMark(config.lowWater, config.highWater);
        group = new MultiThreadIoEventLoopGroup(2, ioHandler);
        try {
            serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(channelType)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpHandler());
                        }
                    })
                    .bind(config.host, config.port).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        say("reporting service on Netty " + nettyVersion() + ", transport " + transport + " (" + why + ")");
        say("write buffer water marks: low " + Units.size(config.lowWater) + ", high " + Units.size(config.highWater)
                + "; max direct memory " + Units.size(PlatformDependent.maxDirectMemory())
                + "; max heap " + Units.size(Runtime.getRuntime().maxMemory()));
        say("endpoints: /export/respecting?bytes=N (waits for the client)  /export/ignoring?bytes=N (does not)"
                + "  /health");
        if (config.statusIntervalNanos > 0) {
            statusPrinter = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "reporting-service-status");
                t.setDaemon(true);
                return t;
            });
            statusPrinter.scheduleAtFixedRate(this::printStatus, config.statusIntervalNanos,
                    config.statusIntervalNanos, TimeUnit.NANOSECONDS);
        } else {
            statusPrinter = null;
        }
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public String transport() {
        return transport;
    }

    @Override
    public void close() {
        if (statusPrinter != null) {
            statusPrinter.shutdownNow();
        }
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    // ------------------------------------------------------------------------------------------------------------
    // The two ways to stream the export. Both run on the connection's event loop and write with ctx.write directly,
    // so that the frame that makes each write is the method that decides whether to wait.

    /**
     * The bug: writes the next 1 MiB of rows whatever the channel says, then re-queues itself on the event loop
     * until the export is done. It never looks at {@link Channel#isWritable()}.
     */
    static void writeRowsIgnoringBackpressure(ChannelHandlerContext ctx, Export export) {
        boolean paced = false;
        for (int i = 0; i < IGNORING_BURST_CHUNKS && export.rows.hasMore(); i++) {
            if (export.over || !ctx.channel().isActive()) {
                return;
            }
            if (!export.mayProduce()) {
                paced = true;
                break;
            }
            ByteBuf chunk;
            try {
                chunk = ctx.alloc().directBuffer(export.chunkSize);
            } catch (OutOfMemoryError e) {
                if (!isDirectMemoryExhaustion(e)) {
                    throw e;
                }
                export.directMemoryExhausted(ctx.channel(), e, "Netty's allocator refused the next "
                        + Units.size(export.chunkSize) + " buffer");
                return;
            }
            int n = export.fill(chunk);
            ctx.write(new DefaultHttpContent(chunk)).addListener(export.whenWritten(n));
            export.queued(n);
        }
        ctx.flush();
        if (export.over) {
            return;
        }
        if (paced) {
            export.resumeLater(ctx, () -> writeRowsIgnoringBackpressure(ctx, export));
        } else if (export.rows.hasMore()) {
            ctx.executor().execute(() -> writeRowsIgnoringBackpressure(ctx, export));
        } else if (!export.bodyFinished) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(export.whenBodyWritten());
        }
    }

    /**
     * The fix: writes while the channel is writable, flushes, and returns when it is not;
     * {@code channelWritabilityChanged} calls it again once the client has caught up.
     */
    static void writeRowsRespectingBackpressure(ChannelHandlerContext ctx, Export export) {
        if (export.writing) {
            return; // re-entered from a writability change inside our own flush: the loop below carries on
        }
        export.writing = true;
        try {
            Channel channel = ctx.channel();
            boolean paced = false;
            while (!paced && !export.over && export.rows.hasMore() && channel.isWritable()) {
                while (!export.over && export.rows.hasMore() && channel.isWritable()) {
                    if (!export.mayProduce()) {
                        paced = true;
                        break;
                    }
                    ByteBuf chunk;
                    try {
                        chunk = ctx.alloc().directBuffer(export.chunkSize);
                    } catch (OutOfMemoryError e) {
                        if (!isDirectMemoryExhaustion(e)) {
                            throw e;
                        }
                        export.directMemoryExhausted(ctx.channel(), e, "Netty's allocator refused the next "
                                + Units.size(export.chunkSize) + " buffer");
                        return;
                    }
                    int n = export.fill(chunk);
                    ctx.write(new DefaultHttpContent(chunk)).addListener(export.whenWritten(n));
                    export.queued(n);
                }
                ctx.flush(); // may drain synchronously and make the channel writable again
            }
            if (paced && !export.over) {
                // not the client but the production rate holds us back: come back when the next chunk is due
                export.resumeLater(ctx, () -> writeRowsRespectingBackpressure(ctx, export));
                return;
            }
            if (!export.over && !export.rows.hasMore() && !export.bodyFinished) {
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(export.whenBodyWritten());
            }
        } finally {
            export.writing = false;
        }
    }

    static boolean isDirectMemoryExhaustion(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof OutOfDirectMemoryError) {
                return true;
            }
            if (c instanceof OutOfMemoryError && c.getMessage() != null
                    && c.getMessage().toLowerCase(java.util.Locale.ROOT).contains("direct")) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------------------------

    /** One download. Mutated only on its connection's event loop; the status printer reads the volatile counters. */
    final class Export {
        final int id;
        final boolean respecting;
        final CsvExport rows;
        final String peer;
        final byte[] scratch = new byte[CHUNK_SIZE];
        final long startNanos = System.nanoTime();
        /** Bytes generated per second at most, or 0 for as fast as possible. */
        final long rate;
        /** Bytes per buffer: {@link #CHUNK_SIZE}, smaller for slow production rates (about 20 writes a second). */
        final int chunkSize;
        boolean resumeScheduled;
        volatile long queuedTotal;
        volatile long written;
        volatile long peakQueued;
        boolean writing;
        boolean bodyFinished;
        volatile boolean over;

        Export(int id, boolean respecting, long bytes, String peer, long rate) {
            this.id = id;
            this.respecting = respecting;
            this.rows = new CsvExport(bytes);
            this.peer = peer;
            this.rate = rate;
            this.chunkSize = rate <= 0 ? CHUNK_SIZE : (int) Math.max(1024, Math.min(CHUNK_SIZE, rate / 20));
        }

        /** Size of the next chunk: a whole {@link #chunkSize}, or what is left of the export. */
        private int nextChunk() {
            return (int) Math.min(chunkSize, rows.remaining());
        }

        /** True when the production rate allows the next chunk now (always, without a rate). */
        boolean mayProduce() {
            return rate <= 0 || nanosUntilNextChunk() <= 0;
        }

        private long nanosUntilNextChunk() {
            // the chunk may go out once rate * elapsed covers everything produced so far plus this chunk
            double due = (queuedTotal + nextChunk()) * 1e9 / rate;
            return (long) due - (System.nanoTime() - startNanos);
        }

        /** Runs {@code task} on the event loop when the next chunk is due (once, however often asked). */
        void resumeLater(ChannelHandlerContext ctx, Runnable task) {
            if (resumeScheduled) {
                return;
            }
            resumeScheduled = true;
            ctx.executor().schedule(() -> {
                resumeScheduled = false;
                if (!over) {
                    task.run();
                }
            }, Math.max(TimeUnit.MILLISECONDS.toNanos(1), nanosUntilNextChunk()), TimeUnit.NANOSECONDS);
        }

        String name() {
            return "export #" + id + " " + (respecting ? "respecting" : "ignoring");
        }

        int fill(ByteBuf chunk) {
            int n = rows.read(scratch, 0, nextChunk());
            chunk.writeBytes(scratch, 0, n);
            return n;
        }

        /** Bytes handed to Netty and not yet written to the socket. */
        long inProcess() {
            return Math.max(0, queuedTotal - written);
        }

        void queued(int n) {
            queuedTotal += n;
            long now = queuedTotal - written;
            if (now > peakQueued) {
                peakQueued = now;
            }
        }

        ChannelFutureListener whenWritten(int n) {
            return f -> {
                if (f.isSuccess()) {
                    written += n;
                } else if (isDirectMemoryExhaustion(f.cause())) {
                    directMemoryExhausted(f.channel(), f.cause(),
                            "Netty failed the write promise");
                }
                // other failures (the client went away) end the export through channelInactive
            };
        }

        void directMemoryExhausted(Channel channel, Throwable cause, String how) {
            if (over) {
                return;
            }
            say((respecting ? "respecting" : "ignoring") + " export #" + id + ": " + FAILURE_MARKER + " with "
                    + Units.size(inProcess()) + " queued in this process for a client whose socket has taken "
                    + Units.size(written) + " — " + how + " (" + oneLine(cause) + "); closing this connection."
                    + " The process survives: Netty fails the allocation or the write promise, it does not kill the"
                    + " JVM");
            end("direct memory exhausted");
            channel.close();
        }

        /** Listens to the write of the last (empty) content: ends the export and closes the connection. */
        ChannelFutureListener whenBodyWritten() {
            bodyFinished = true;
            return f -> {
                end(f.isSuccess() ? "complete" : "the client went away");
                f.channel().close();
            };
        }

        void end(String reason) {
            if (over) {
                return;
            }
            over = true;
            openExports.remove(this);
            say(name() + ": ended (" + reason + ") after " + Units.seconds(System.nanoTime() - startNanos) + " — "
                    + Units.size(written) + " written to the socket, peak queued in process "
                    + Units.size(peakQueued));
        }
    }

    private final class HttpHandler extends ChannelInboundHandlerAdapter {
        private Export export;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest) {
                    handle(ctx, (HttpRequest) msg);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void handle(ChannelHandlerContext ctx, HttpRequest request) {
            if (export != null) {
                return; // an export is the last response on its connection
            }
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            String path = uri.path();
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method())) {
                respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET\n", keepAlive);
                return;
            }
            if ("/health".equals(path)) {
                respond(ctx, HttpResponseStatus.OK, "ok\n", keepAlive);
                return;
            }
            boolean respecting = "/export/respecting".equals(path);
            if (!respecting && !"/export/ignoring".equals(path)) {
                respond(ctx, HttpResponseStatus.NOT_FOUND,
                        "try /export/respecting?bytes=N, /export/ignoring?bytes=N or /health\n", keepAlive);
                return;
            }
            long bytes = DEFAULT_EXPORT_BYTES;
            long rate = 0;
            try {
                List<String> param = uri.parameters().get("bytes");
                if (param != null && !param.isEmpty()) {
                    bytes = Units.parseSize(param.get(0));
                }
                List<String> rateParam = uri.parameters().get("rate");
                if (rateParam != null && !rateParam.isEmpty()) {
                    rate = Units.parseSize(rateParam.get(0));
                }
            } catch (IllegalArgumentException e) {
                respond(ctx, HttpResponseStatus.BAD_REQUEST, e.getMessage() + "\n", false);
                return;
            }
            HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/csv; charset=utf-8")
                    .set(HttpHeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"export.csv\"")
                    .set(HttpHeaderNames.CONTENT_LENGTH, bytes)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            if (HttpMethod.HEAD.equals(request.method())) {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            export = new Export(exportIds.incrementAndGet(), respecting, bytes, peer(ctx.channel()), rate);
            openExports.add(export);
            say(export.name() + ": streaming " + Units.size(bytes) + " to " + export.peer
                    + (rate > 0 ? ", generated at " + Units.rate(rate) : "")
                    + (respecting ? " (writes only while the channel is writable, resumes on channelWritabilityChanged)"
                            : " (writes as fast as rows are generated, never asks isWritable())"));
            ctx.write(response);
            if (respecting) {
                writeRowsRespectingBackpressure(ctx, export);
            } else {
                writeRowsIgnoringBackpressure(ctx, export);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (export != null && export.respecting && !export.over && ctx.channel().isWritable()) {
                writeRowsRespectingBackpressure(ctx, export);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (export != null && !export.over) {
                export.end(export.rows.hasMore() ? "the client went away" : "complete");
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (isDirectMemoryExhaustion(cause) && export != null) {
                export.directMemoryExhausted(ctx.channel(), cause, "Netty failed the operation");
                return;
            }
            if (!(cause instanceof IOException)) {
                say("connection " + peer(ctx.channel()) + ": " + oneLine(cause) + "; closing it");
            }
            ctx.close();
        }
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void printStatus() {
        if (openExports.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder("status: direct memory in use ").append(Units.size(usedDirectMemory()))
                .append(" of ").append(Units.size(PlatformDependent.maxDirectMemory()));
        for (Export e : openExports) {
            sb.append("; ").append(e.name()).append(": ").append(Units.size(e.inProcess()))
                    .append(" queued, ").append(Units.size(e.written)).append(" written");
        }
        say(sb.toString());
    }

    /**
     * Direct memory in use: the larger of Netty's own counter and the JDK's direct buffer pool (depending on the
     * JDK and flags, Netty allocates through one or the other, or counts in both).
     */
    static long usedDirectMemory() {
        long used = Math.max(0, PlatformDependent.usedDirectMemory());
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if ("direct".equals(pool.getName())) {
                used = Math.max(used, pool.getMemoryUsed());
            }
        }
        return used;
    }

    private static String nettyVersion() {
        Map<String, Version> versions = Version.identify();
        Version v = versions.get("netty-transport");
        return v == null ? "(unknown version)" : v.artifactVersion();
    }

    private static String peer(Channel channel) {
        Object address = channel.remoteAddress();
        if (address instanceof InetSocketAddress) {
            InetSocketAddress a = (InetSocketAddress) address;
            return a.getAddress().getHostAddress() + ":" + a.getPort();
        }
        return String.valueOf(address);
    }

    static String oneLine(Throwable t) {
        String s = t.toString();
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static void say(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }
}

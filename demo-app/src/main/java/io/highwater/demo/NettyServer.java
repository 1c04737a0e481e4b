package io.highwater.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
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
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.Version;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The plumbing of the reporting service's Netty endpoints: the server bootstrap (epoll or NIO, the write buffer water
 * marks), HTTP/1.1 routing, and a status line of the open downloads. The export itself is {@link NettyExport}.
 *
 * <ul>
 *   <li>{@code GET /export/respecting?bytes=N} and {@code GET /export/ignoring?bytes=N}: the export, by the writer
 *       that respects backpressure or by the one that ignores it. Both take an optional {@code rate} (bytes generated
 *       per second, e.g. {@code rate=2m}; default unlimited), so that the bytes the ignoring writer piles up grow at a
 *       predictable pace (tests that wait for an alert or attach mid-way use it).</li>
 *   <li>{@code GET /health}: {@code 200 ok}, to show that the process still serves.</li>
 * </ul>
 *
 * Responses carry a {@code Content-Length}; an export is the last response on its connection.
 */
public final class NettyServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final String transport;
    private final Set<NettyDownload> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger ids = new AtomicInteger();
    private final ScheduledExecutorService statusPrinter;

    /** How the server is started; defaults match {@code serve} without options. */
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

    /** Starts a server; the caller owns {@link #close()}. */
    public static NettyServer start(Config config) throws InterruptedException {
        return new NettyServer(config);
    }

    private NettyServer(Config config) throws InterruptedException {
        boolean epoll = !"nio".equalsIgnoreCase(config.transport) && Epoll.isAvailable();
        if ("epoll".equalsIgnoreCase(config.transport) && !epoll) {
            throw new IllegalStateException("epoll transport requested but unavailable: "
                    + Epoll.unavailabilityCause());
        }
        transport = epoll ? "epoll" : "nio";
        group = new MultiThreadIoEventLoopGroup(2, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        try {
            serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(channelType)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(config.lowWater, config.highWater))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new Router());
                        }
                    })
                    .bind(config.host, config.port).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        String why = epoll ? "native transport available" : "nio".equalsIgnoreCase(config.transport)
                ? "asked for with --transport nio" : "epoll unavailable: " + Epoll.unavailabilityCause();
        ReportingService.say("reporting service on Netty " + nettyVersion() + ", transport " + transport + " (" + why
                + ")");
        ReportingService.say("write buffer water marks: low " + Units.size(config.lowWater) + ", high "
                + Units.size(config.highWater) + "; max direct memory "
                + Units.size(PlatformDependent.maxDirectMemory()) + "; max heap "
                + Units.size(Runtime.getRuntime().maxMemory()));
        ReportingService.say("endpoints: /export/respecting?bytes=N (waits for the client)  /export/ignoring?bytes=N"
                + " (does not)  /health");
        statusPrinter = config.statusIntervalNanos > 0 ? startStatusPrinter(config.statusIntervalNanos) : null;
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public String transport() {
        return transport;
    }

    /** Returns once the server is closed. */
    void awaitClose() {
        serverChannel.closeFuture().syncUninterruptibly();
    }

    @Override
    public void close() {
        if (statusPrinter != null) {
            statusPrinter.shutdownNow();
        }
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One connection's requests: answers short ones, hands an export's body to {@link NettyExport}. */
    private final class Router extends ChannelInboundHandlerAdapter {
        private NettyDownload download;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest && download == null) {
                    route(ctx, (HttpRequest) msg);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void route(ChannelHandlerContext ctx, HttpRequest request) {
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            boolean respecting = "/export/respecting".equals(uri.path());
            if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method())) {
                respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET\n", keepAlive);
            } else if ("/health".equals(uri.path())) {
                respond(ctx, HttpResponseStatus.OK, "ok\n", keepAlive);
            } else if (!respecting && !"/export/ignoring".equals(uri.path())) {
                respond(ctx, HttpResponseStatus.NOT_FOUND,
                        "try /export/respecting?bytes=N, /export/ignoring?bytes=N or /health\n", keepAlive);
            } else {
                long bytes;
                long rate;
                try {
                    bytes = sizeParameter(uri, "bytes", ReportingService.DEFAULT_EXPORT_BYTES);
                    rate = sizeParameter(uri, "rate", 0);
                } catch (IllegalArgumentException e) {
                    respond(ctx, HttpResponseStatus.BAD_REQUEST, e.getMessage() + "\n", false);
                    return;
                }
                export(ctx, HttpMethod.HEAD.equals(request.method()), respecting, bytes, rate);
            }
        }

        private void export(ChannelHandlerContext ctx, boolean head, boolean respecting, long bytes, long rate) {
            HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, "text/csv; charset=utf-8")
                    .set(HttpHeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"export.csv\"")
                    .set(HttpHeaderNames.CONTENT_LENGTH, bytes)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            if (head) {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            download = new NettyDownload(ids.incrementAndGet(), respecting, ctx.channel(), peer(ctx.channel()), bytes,
                    rate, open::remove);
            open.add(download);
            ReportingService.say(download.name() + ": streaming " + Units.size(bytes) + " to " + download.peer
                    + (rate > 0 ? ", generated at " + Units.rate(rate) : "")
                    + (respecting ? " (writes only while the channel is writable, resumes on channelWritabilityChanged)"
                            : " (writes as fast as rows are generated, never asks isWritable())"));
            ctx.write(response);
            // before this router: what goes wrong in the writers reaches exceptionCaught here
            ctx.pipeline().addBefore(ctx.name(), null, new NettyExport(download));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (download != null) {
                download.connectionClosed();
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (download != null && NettyDownload.isDirectMemoryExhaustion(cause)) {
                download.directMemoryExhausted(cause, "Netty failed the operation");
                return;
            }
            if (!(cause instanceof IOException)) {
                ReportingService.say("connection " + peer(ctx.channel()) + ": " + ReportingService.oneLine(cause)
                        + "; closing it");
            }
            ctx.close();
        }
    }

    private static long sizeParameter(QueryStringDecoder uri, String name, long fallback) {
        List<String> values = uri.parameters().get(name);
        return values == null || values.isEmpty() ? fallback : Units.parseSize(values.get(0));
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        if (keepAlive) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private ScheduledExecutorService startStatusPrinter(long intervalNanos) {
        ScheduledExecutorService printer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "reporting-service-status");
            t.setDaemon(true);
            return t;
        });
        printer.scheduleAtFixedRate(this::printStatus, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
        return printer;
    }

    private void printStatus() {
        if (open.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder("status: direct memory in use ").append(Units.size(usedDirectMemory()))
                .append(" of ").append(Units.size(PlatformDependent.maxDirectMemory()));
        for (NettyDownload d : open) {
            sb.append("; ").append(d.name()).append(": ").append(Units.size(d.inProcess()))
                    .append(" queued, ").append(Units.size(d.written())).append(" written");
        }
        ReportingService.say(sb.toString());
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
        Version v = Version.identify().get("netty-transport");
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
}

package io.highwater.bench.stream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
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
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;

/**
 * The streaming half of bench/scripts/streaming.sh: a Netty (NIO) server that streams a fixed number of bytes to
 * each client as {@code writeSize}-byte buffers, as fast as the client reads, then closes. It writes while the
 * channel is writable and resumes on {@code channelWritabilityChanged}, as a well-behaved streaming service does,
 * so the channel crosses its water marks all the time: the agent's stop/go slow path runs at full rate, its write
 * fast path on every buffer.
 *
 * <p>Serves one client per {@code bytes} argument, one after the other (the first ones warm the JIT up), the
 * i-th one {@code bytes[i]} bytes, and prints, for each, one line:
 * {@code stream n=<i> bytes=<b> complete=<true|false> cpu_ns=<process CPU time while it streamed> wall_ns=<...>
 * writability_changes=<channelWritabilityChanged events> user_ms=<user CPU> sys_ms=<system CPU>
 * measured_writability_changes=<...> flushes=<...> write_syscalls=<...> voluntary_switches=<...>
 * involuntary_switches=<...>}, the last five for the measured part only (the switches are the event loop's).
 * Process CPU time is every thread's: the event loop, GC, JIT and the agent's own threads. Exits after the last.
 *
 * <p>Usage: {@code StreamServer <port|0> <writeSize> <bytes>...}; prints {@code port <p>} once listening.
 * {@code -Dbench.nullContextLoader=true} gives the event loop thread no context class loader (a diagnostic: code
 * that looks classes up through the context class loader on every event then skips the look-up).
 * {@code -Dbench.warmupMs=T} streams for T ms first, on the same connection, and then measures the stream's
 * {@code bytes} more (no JIT or agent state of a new connection in the measured part; the client reads to the end),
 * and the line reports {@code measured_bytes}: a warm-up in time covers the agent's first export, which comes at a
 * fixed time, on any machine. {@code -Dbench.threads=true} adds, after each stream, the CPU time of each thread during it (from
 * {@code /proc/self/task}: event loop, GC, JIT compiler and the agent's own threads), grouped by thread name.
 * {@code -Dbench.h2c=true} serves HTTP/2 over cleartext (prior knowledge) instead: each connection's first stream
 * gets the bytes as DATA frames of {@code writeSize} through an {@code Http2MultiplexHandler} stream channel, written
 * while the stream channel is writable ({@link H2StreamClient} reads them).
 */
public final class StreamServer {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int writeSize = Integer.parseInt(args[1]);
        long[] bytes = new long[args.length - 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = Long.parseLong(args[i + 2]);
            if (bytes[i] % writeSize != 0) {
                throw new IllegalArgumentException("bytes must be a multiple of the write size: " + bytes[i]);
            }
        }
        CountDownLatch done = new CountDownLatch(bytes.length);
        boolean h2c = Boolean.getBoolean("bench.h2c");
        EventLoopGroup group;
        if (Boolean.getBoolean("bench.nullContextLoader")) {
            java.util.concurrent.ThreadFactory threads = new io.netty.util.concurrent.DefaultThreadFactory("server");
            group = new NioEventLoopGroup(1, r -> {
                Thread t = threads.newThread(r);
                t.setContextClassLoader(null);
                return t;
            });
        } else {
            group = new NioEventLoopGroup(1);
        }
        try {
            int[] served = {0};
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            int n = served[0]++;
                            Streamer streamer = h2c ? new H2Streamer(n + 1, n < bytes.length ? bytes[n] : 0, writeSize,
                                    done) : new Streamer(n + 1, n < bytes.length ? bytes[n] : 0, writeSize, done);
                            if (!h2c) {
                                ch.pipeline().addLast(streamer);
                                return;
                            }
                            boolean[] first = {true};
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                                    new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                        @Override
                                        protected void initChannel(Http2StreamChannel stream) {
                                            if (first[0]) {
                                                first[0] = false;
                                                stream.pipeline().addLast(streamer);
                                            }
                                        }
                                    }));
                        }
                    })
                    .bind("127.0.0.1", port).sync().channel();
            System.out.println("port " + ((java.net.InetSocketAddress) server.localAddress()).getPort());
            System.out.flush();
            done.await();
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    /** CPU ticks (user + system) of every thread of this process, by thread id, with its name. */
    static java.util.Map<String, long[]> threadTicks() {
        java.util.Map<String, long[]> out = new java.util.HashMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return out;
        }
        for (java.io.File task : tasks) {
            try {
                String stat = new String(java.nio.file.Files.readAllBytes(new java.io.File(task, "stat").toPath()),
                        java.nio.charset.StandardCharsets.US_ASCII);
                long[] userSys = userSys(stat);
                out.put(task.getName() + " " + stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
                        new long[] {userSys[0] + userSys[1]});
            } catch (java.io.IOException | RuntimeException e) {
                // the thread ended meanwhile
            }
        }
        return out;
    }

    static String threadReport(java.util.Map<String, long[]> before, java.util.Map<String, long[]> after) {
        java.util.Map<String, Long> byName = new java.util.TreeMap<>();
        for (java.util.Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.get(e.getKey());
            long d = e.getValue()[0] - (b == null ? 0 : b[0]);
            // thread names without their numbers: "GC Thread#0" and "GC Thread#1" together
            String name = e.getKey().substring(e.getKey().indexOf(' ') + 1).replaceAll("[#-]?[0-9]+$", "");
            byName.merge(name, d, Long::sum);
        }
        StringBuilder sb = new StringBuilder("threads cpu_ms:");
        byName.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
                .forEach(e -> sb.append(' ').append(e.getKey().replace(' ', '_')).append('=').append(e.getValue() * 10));
        return sb.toString();
    }

    /**
     * The process's user and system CPU ticks (10 ms): the agent's code runs in user mode, while most of a loopback
     * stream's CPU is the kernel's, whose run-to-run spread would otherwise hide a few per cent of user time.
     */
    static long[] userSysTicks() {
        try {
            return userSys(new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/self/stat")),
                    java.nio.charset.StandardCharsets.US_ASCII));
        } catch (java.io.IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    /** utime and stime of a {@code /proc/.../stat} line: after the name, state is field [0], utime [11], stime [12]. */
    private static long[] userSys(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    }

    /**
     * What the kernel side of the stream did, for telling apart rounds whose system time differs: the process's
     * write system calls ({@code syscw} of {@code /proc/self/io}) and this thread's voluntary and involuntary
     * context switches ({@code /proc/thread-self/status}); -1 where unreadable.
     */
    static long[] kernelCounters() {
        long[] c = {-1, -1, -1};
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/self/io"))) {
                if (line.startsWith("syscw:")) {
                    c[0] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/thread-self/status"))) {
                if (line.startsWith("voluntary_ctxt_switches:")) {
                    c[1] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                    c[2] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // left at -1
        }
        return c;
    }

    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** {@link Streamer} on an HTTP/2 stream channel: starts at the request's HEADERS, writes DATA frames. */
    static final class H2Streamer extends Streamer {

        H2Streamer(int id, long bytes, int writeSize, CountDownLatch done) {
            super(id, bytes, writeSize, done);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // the stream begins with the request's HEADERS
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean request = msg instanceof Http2HeadersFrame;
            io.netty.util.ReferenceCountUtil.release(msg);
            if (request) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")), ctx.voidPromise());
                start(ctx);
            }
        }

        @Override
        Object frame(ByteBuf data) {
            return new DefaultHttp2DataFrame(data);
        }

        @Override
        Object end() {
            return new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true);
        }
    }

    static class Streamer extends ChannelInboundHandlerAdapter {
        private final int id;
        private final int writeSize;
        private final CountDownLatch done;
        private final ByteBuf payload;
        private final long total;
        private long remaining;
        private long writabilityChanges;
        private final long warmupNanos = Long.getLong("bench.warmupMs", 0) * 1_000_000L;
        private long streamStart;
        private long written;
        private boolean measuring;
        private long cpuStart;
        private long[] userSysStart;
        private long[] kernelStart;
        private long writabilityChangesStart;
        private long flushes;
        private java.util.Map<String, long[]> threadsStart;
        private long wallStart;
        private boolean closing;

        Streamer(int id, long bytes, int writeSize, CountDownLatch done) {
            this.id = id;
            this.total = bytes;
            this.remaining = bytes;
            this.writeSize = writeSize;
            this.done = done;
            byte[] b = new byte[writeSize];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) ('a' + i % 26);
            }
            this.payload = Unpooled.wrappedBuffer(b);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            start(ctx);
        }

        final void start(ChannelHandlerContext ctx) {
            streamStart = System.nanoTime();
            if (warmupNanos == 0) {
                startMeasuring();
            }
            pump(ctx);
        }

        /** What is written for {@code data}. */
        Object frame(ByteBuf data) {
            return data;
        }

        /** What ends the stream once everything before it is out. */
        Object end() {
            return Unpooled.EMPTY_BUFFER;
        }

        private void startMeasuring() {
            measuring = true;
            cpuStart = processCpuNanos();
            userSysStart = userSysTicks();
            kernelStart = kernelCounters();
            writabilityChangesStart = writabilityChanges;
            flushes = 0;
            wallStart = System.nanoTime();
            if (Boolean.getBoolean("bench.threads")) {
                threadsStart = threadTicks();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            writabilityChanges++;
            if (ctx.channel().isWritable()) {
                pump(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        private void pump(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            // a pooled direct buffer per write, as a server encoding a response does
            while (remaining > 0 && ch.isWritable()) {
                ByteBuf b = ctx.alloc().ioBuffer(writeSize);
                b.writeBytes(payload, payload.readerIndex(), writeSize);
                ctx.write(frame(b), ctx.voidPromise());
                written += writeSize;
                if (measuring) {
                    remaining -= writeSize;
                } else if ((written & ((1 << 20) - 1)) == 0 && System.nanoTime() - streamStart >= warmupNanos) {
                    startMeasuring();
                }
            }
            if (remaining == 0 && !closing) {
                closing = true;
                // completes once everything before it is on the socket
                ctx.writeAndFlush(end()).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.flush();
                flushes++;
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            long cpu = processCpuNanos() - cpuStart;
            long wall = System.nanoTime() - wallStart;
            long[] userSys = userSysTicks();
            long[] kernel = kernelCounters();
            System.out.println("stream n=" + id + " bytes=" + written + " measured_bytes=" + (total - remaining)
                    + " complete=" + (remaining == 0)
                    + " cpu_ns=" + cpu + " wall_ns=" + wall + " writability_changes=" + writabilityChanges
                    + " user_ms=" + (userSys[0] - userSysStart[0]) * 10 + " sys_ms=" + (userSys[1] - userSysStart[1]) * 10
                    + " measured_writability_changes=" + (writabilityChanges - writabilityChangesStart)
                    + " flushes=" + flushes + " write_syscalls=" + (kernel[0] - kernelStart[0])
                    + " voluntary_switches=" + (kernel[1] - kernelStart[1])
                    + " involuntary_switches=" + (kernel[2] - kernelStart[2]));
            if (threadsStart != null) {
                System.out.println("stream n=" + id + " " + threadReport(threadsStart, threadTicks()));
            }
            System.out.flush();
            payload.release();
            done.countDown();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            System.err.println("stream " + id + ": " + cause);
            ctx.close();
        }
    }
}

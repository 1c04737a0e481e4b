package io.highwater.it.apps.h2;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A real HTTP/2 client (Netty's own {@code codec-http2}, h2c with prior knowledge) that grants a small connection
 * window and gives nothing back until told: the shape in which one stream exhausts the connection-level window and
 * every other stream of the connection starves, whatever its own window.
 *
 * <p>It grants each stream {@code --stream-window} bytes (SETTINGS_INITIAL_WINDOW_SIZE, 1 MiB by default) and leaves
 * the connection's window at the protocol's initial 65,535 bytes; it marks no DATA as consumed (its frame listener
 * returns 0 processed bytes), so it sends no WINDOW_UPDATE at all. It opens stream 3 on {@code --first}; once that
 * stream has received the whole connection window it opens stream 5 on {@code --second} ({@code OPENED <path>} on
 * stdout). On {@code release} on stdin it consumes everything received so far and everything after, so that Netty's
 * local flow controller gives the windows back and both responses complete ({@code DONE <stream> <bytes>}).
 */
public final class H2WindowClient {

    /** The connection-level window every HTTP/2 connection starts with (RFC 9113 6.9.2); this client never raises it. */
    static final int CONNECTION_WINDOW = 65_535;

    private H2WindowClient() {
    }

    public static void main(String[] args) throws Exception {
        int port = 0;
        int streamWindow = 1 << 20;
        String first = "/ignore";
        String second = "/respect";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--port": port = Integer.parseInt(args[i + 1]); break;
                case "--stream-window": streamWindow = Integer.parseInt(args[i + 1]); break;
                case "--first": first = args[i + 1]; break;
                case "--second": second = args[i + 1]; break;
                default: throw new IllegalArgumentException(args[i]);
            }
        }
        Listener listener = new Listener(port, first, second);
        Http2ConnectionHandler handler = new Http2ConnectionHandlerBuilder().server(false).frameListener(listener)
                .initialSettings(new Http2Settings().initialWindowSize(streamWindow)).build();
        listener.handler = handler;
        EventLoopGroup group = new NioEventLoopGroup(1);
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(handler)
                .connect("127.0.0.1", port).sync().channel();
        ch.eventLoop().execute(() -> listener.request(ch.pipeline().context(handler), 3, listener.first));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.trim().equals("release")) {
                ch.eventLoop().execute(() -> listener.release(ch.pipeline().context(handler)));
            }
        }
    }

    static final class Listener extends Http2FrameAdapter {
        private final int port;
        final String first;
        private final String second;
        Http2ConnectionHandler handler;
        /** Per stream: bytes received, and of those not yet marked consumed (not yet given back to the server). */
        private final Map<Integer, Long> received = new TreeMap<>();
        private final Map<Integer, Integer> unconsumed = new TreeMap<>();
        private long total;
        private boolean openedSecond;
        private boolean released;

        Listener(int port, String first, String second) {
            this.port = port;
            this.first = first;
            this.second = second;
        }

        void request(ChannelHandlerContext ctx, int streamId, String path) {
            handler.encoder().writeHeaders(ctx, streamId, new DefaultHttp2Headers().method("GET").scheme("http")
                    .authority("127.0.0.1:" + port).path(path), 0, true, ctx.newPromise());
            ctx.flush();
            System.out.println("OPENED " + path + " " + streamId);
        }

        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                              boolean endOfStream) {
            int n = data.readableBytes() + padding;
            received.merge(streamId, (long) n, Long::sum);
            total += n;
            if (endOfStream) {
                System.out.println("DONE " + streamId + " " + received.get(streamId));
            }
            if (!openedSecond && total >= CONNECTION_WINDOW) {
                // the first stream took the whole connection window: the second one can get nothing
                openedSecond = true;
                ctx.executor().execute(() -> request(ctx, 5, second));
            }
            if (released) {
                return n;
            }
            unconsumed.merge(streamId, n, Integer::sum);
            return 0;
        }

        /** Marks everything received as consumed: Netty's local flow controller sends the WINDOW_UPDATEs. */
        void release(ChannelHandlerContext ctx) {
            released = true;
            for (Map.Entry<Integer, Integer> e : unconsumed.entrySet()) {
                Http2Stream stream = handler.connection().stream(e.getKey());
                if (stream != null) {
                    try {
                        handler.connection().local().flowController().consumeBytes(stream, e.getValue());
                    } catch (Http2Exception x) {
                        throw new IllegalStateException(x);
                    }
                }
            }
            unconsumed.clear();
            ctx.flush();
            System.out.println("RELEASED " + received);
        }
    }
}

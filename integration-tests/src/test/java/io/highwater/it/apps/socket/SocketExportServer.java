package io.highwater.it.apps.socket;

import com.sun.net.httpserver.HttpServer;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Exports over the JDK's own sockets, one kind per process ({@code --kind}):
 * <ul>
 *   <li>{@code socket}: a {@link ServerSocket}, a thread per connection writing through a
 *       {@link BufferedOutputStream} (with {@code --virtual}: a virtual thread per connection, JDK 21+; with
 *       {@code --timed-read}: the request is read with a timeout first, which leaves the socket non-blocking);</li>
 *   <li>{@code httpserver}: {@code com.sun.net.httpserver} with a fixed-length response, written to a blocking
 *       {@code SocketChannel} (with {@code --virtual}: handlers on virtual threads, JDK 21+);</li>
 *   <li>{@code nio-spin}: a non-blocking {@link SocketChannel} written in a loop that retries at once when the
 *       kernel takes nothing (ignores the signal);</li>
 *   <li>{@code nio-selector}: the same channel written only when the selector says it is writable.</li>
 * </ul>
 * Every kind answers {@code GET /export?bytes=N&chunk=C} with N bytes written C at a time, and prints
 * {@code LISTENING <port>}; the {@code socket} kind prints {@code WRITE-FAILED <client port> <exception>} when a write
 * throws. {@code --sndbuf N} pins the accepted sockets' send buffer, so a paused client fills the
 * kernel quickly.
 */
public final class SocketExportServer {

    private static int sndbuf = 64 * 1024;

    private SocketExportServer() {
    }

    public static void main(String[] args) throws Exception {
        String kind = "socket";
        boolean virtual = false;
        boolean timedRead = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--kind" -> kind = args[++i];
                case "--sndbuf" -> sndbuf = Integer.parseInt(args[++i]);
                case "--virtual" -> virtual = true;
                case "--timed-read" -> timedRead = true;
                default -> throw new IllegalArgumentException(args[i]);
            }
        }
        switch (kind) {
            case "socket" -> serveSocket(virtual, timedRead);
            case "httpserver" -> serveHttpServer(virtual);
            case "nio-spin" -> serveNio(true);
            case "nio-selector" -> serveNio(false);
            default -> throw new IllegalArgumentException(kind);
        }
    }

    // ---------------------------------------------------------------- ServerSocket

    private static ExecutorService threads(boolean virtual) throws ReflectiveOperationException {
        return virtual ? (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null)
                : Executors.newCachedThreadPool();
    }

    private static void serveSocket(boolean virtual, boolean timedRead) throws Exception {
        ExecutorService pool = threads(virtual);
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        System.out.println("LISTENING " + server.getLocalPort());
        while (true) {
            Socket s = server.accept();
            s.setSendBufferSize(sndbuf);
            if (timedRead) {
                // a read with a timeout leaves the descriptor non-blocking: later writes park for POLLOUT
                s.setSoTimeout(30_000);
            }
            pool.execute(() -> {
                try (s) {
                    long[] q = query(readRequestLine(s.getInputStream()));
                    OutputStream out = new BufferedOutputStream(s.getOutputStream(), 8192);
                    out.write(head(q[0]));
                    writeBody(out, q[0], (int) q[1]);
                    out.flush();
                } catch (IOException e) {
                    // the client went away (or the agent's guard refused the write): said for the guard's tests
                    System.out.println("WRITE-FAILED " + s.getPort() + " " + e);
                    System.out.flush();
                }
            });
        }
    }

    /** The export's writing loop on a socket stream: each write blocks while the kernel's send buffer is full. */
    static void writeBody(OutputStream out, long bytes, int chunk) throws IOException {
        byte[] row = new byte[chunk];
        Arrays.fill(row, (byte) 'x');
        for (long left = bytes; left > 0; left -= chunk) {
            out.write(row, 0, (int) Math.min(chunk, left));
        }
    }

    // ---------------------------------------------------------------- com.sun.net.httpserver

    private static void serveHttpServer(boolean virtual) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(threads(virtual));
        server.createContext("/export", exchange -> {
            long[] q = query(exchange.getRequestURI());
            exchange.sendResponseHeaders(200, q[0]);
            try (OutputStream out = exchange.getResponseBody()) {
                writeBody(out, q[0], (int) q[1]);
            } catch (IOException e) {
                // the client went away
            }
        });
        server.start();
        System.out.println("LISTENING " + server.getAddress().getPort());
    }

    // ---------------------------------------------------------------- non-blocking SocketChannel

    private static void serveNio(boolean spin) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        System.out.println("LISTENING " + ((InetSocketAddress) server.getLocalAddress()).getPort());
        while (true) {
            SocketChannel ch = server.accept();
            ch.setOption(StandardSocketOptions.SO_SNDBUF, sndbuf);
            new Thread(() -> {
                try (ch) {
                    long[] q = query(readRequestLine(ch.socket().getInputStream()));
                    ch.configureBlocking(false);
                    ByteBuffer head = ByteBuffer.wrap(head(q[0]));
                    if (spin) {
                        writeSpinning(ch, head);
                    } else {
                        writeWhenWritable(ch, head);
                    }
                    for (long left = q[0]; left > 0; left -= q[1]) {
                        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(q[1], left));
                        if (spin) {
                            writeSpinning(ch, chunk);
                        } else {
                            writeWhenWritable(ch, chunk);
                        }
                    }
                } catch (IOException e) {
                    // the client went away
                }
            }, "nio-writer").start();
        }
    }

    /** Retries at once when the kernel took nothing: the channel said stop and this code does not listen. */
    static void writeSpinning(SocketChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Writes what the kernel takes, then waits on a selector until the channel is writable again. */
    static void writeWhenWritable(SocketChannel ch, ByteBuffer buf) throws IOException {
        ch.write(buf);
        if (!buf.hasRemaining()) {
            return;
        }
        try (Selector selector = Selector.open()) {
            SelectionKey key = ch.register(selector, SelectionKey.OP_WRITE);
            while (buf.hasRemaining()) {
                selector.select();
                selector.selectedKeys().clear();
                ch.write(buf);
            }
            key.cancel();
            selector.selectNow();
        }
    }

    // ---------------------------------------------------------------- HTTP, minimally

    private static String readRequestLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        StringBuilder all = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            all.append((char) c);
            if (line.length() == 0 || !line.toString().endsWith("\n")) {
                line.append((char) c);
            }
            if (all.length() >= 4 && all.substring(all.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return line.toString().trim();
    }

    private static long[] query(String requestLine) {
        return query(URI.create(requestLine.split(" ")[1]));
    }

    private static long[] query(URI uri) {
        long bytes = 1 << 20;
        long chunk = 16 * 1024;
        if (uri.getQuery() != null) {
            for (String kv : uri.getQuery().split("&")) {
                String[] p = kv.split("=");
                if (p[0].equals("bytes")) {
                    bytes = Long.parseLong(p[1]);
                } else if (p[0].equals("chunk")) {
                    chunk = Long.parseLong(p[1]);
                }
            }
        }
        return new long[] {bytes, chunk};
    }

    private static byte[] head(long length) {
        return ("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: " + length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }
}

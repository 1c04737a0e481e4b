package io.highwater.demo;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The plumbing of the reporting service's plain-socket endpoint: a {@link ServerSocket}, a thread per connection, and
 * just enough HTTP/1.1 to be downloaded ({@code Content-Length}, {@code Connection: close}). {@code GET
 * /socket/export?bytes=N} is {@link SocketExport}; other paths and methods get short answers.
 */
public final class SocketServer implements AutoCloseable {
    /** A request head larger than this is refused; the endpoint takes no body. */
    private static final int MAX_HEAD = 8 * 1024;
    /** A client that connects and sends no request is dropped after this long. */
    private static final int HEAD_TIMEOUT_MILLIS = 10_000;

    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger ids = new AtomicInteger();
    private volatile boolean closed;

    private SocketServer(String host, int port) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 50);
        acceptor = new Thread(this::acceptLoop, "socket-export-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Listens on {@code host:port} (0: a free port). */
    public static SocketServer start(String host, int port) throws IOException {
        return new SocketServer(host, port);
    }

    public int port() {
        return server.getLocalPort();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        // a thread blocked in write() returns only when its socket is closed
        for (Socket s : open) {
            closeQuietly(s);
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    ReportingService.say("socket endpoint: accept failed: " + e + "; no more connections");
                }
                return;
            }
            open.add(s);
            int id = ids.incrementAndGet();
            Thread t = new Thread(() -> {
                try {
                    serve(s, id);
                } finally {
                    open.remove(s);
                    closeQuietly(s);
                }
            }, "socket-export-" + id);
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s, int id) {
        String target;
        try {
            s.setSoTimeout(HEAD_TIMEOUT_MILLIS);
            // no body follows the head, so a buffer cannot swallow anything the export needs
            target = requestTarget(new BufferedInputStream(s.getInputStream(), 1024));
        } catch (IOException e) {
            return; // the client went away, or asked nothing in time
        }
        try {
            OutputStream raw = s.getOutputStream();
            if (target == null) {
                respond(raw, "405 Method Not Allowed", "only GET\n");
                return;
            }
            URI uri;
            try {
                uri = new URI(target);
            } catch (URISyntaxException e) {
                respond(raw, "400 Bad Request", "bad request target\n");
                return;
            }
            if (!"/socket/export".equals(uri.getPath())) {
                respond(raw, "404 Not Found", "try /socket/export?bytes=N\n");
                return;
            }
            long bytes;
            try {
                bytes = bytes(uri.getRawQuery());
            } catch (IllegalArgumentException e) {
                respond(raw, "400 Bad Request", e.getMessage() + "\n");
                return;
            }
            SocketExport.stream(s, id, bytes, () -> closed);
        } catch (IOException e) {
            // the client went away during a short response
        }
    }

    /** The request target of a {@code GET}, or null for another method. */
    static String requestTarget(InputStream in) throws IOException {
        byte[] head = new byte[MAX_HEAD];
        int len = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new SocketException("connection closed before the end of the request head");
            }
            if (len == head.length) {
                throw new IOException("request head larger than " + MAX_HEAD + " bytes");
            }
            head[len++] = (byte) b;
            if (len >= 4 && head[len - 4] == '\r' && head[len - 3] == '\n' && head[len - 2] == '\r'
                    && head[len - 1] == '\n') {
                break;
            }
        }
        String text = new String(head, 0, len, StandardCharsets.US_ASCII);
        String[] requestLine = text.substring(0, text.indexOf("\r\n")).split(" ");
        if (requestLine.length != 3 || !"GET".equals(requestLine[0])) {
            return null;
        }
        return requestLine[1];
    }

    static long bytes(String rawQuery) {
        if (rawQuery != null) {
            for (String param : rawQuery.split("&")) {
                if (param.startsWith("bytes=")) {
                    return Math.max(Units.parseSize(param.substring("bytes=".length())), CsvExport.MIN_BYTES);
                }
            }
        }
        return ReportingService.DEFAULT_EXPORT_BYTES;
    }

    private static void respond(OutputStream out, String status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + b.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }
}

package io.highwater.demo;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
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
 * The reporting service's plain-socket endpoint: the same CSV export ({@link CsvExport}) on a
 * {@link java.net.ServerSocket}, one thread per connection, blocking writes through a {@link BufferedOutputStream},
 * and just enough HTTP/1.1 to be downloaded ({@code Content-Length}, {@code Connection: close}).
 *
 * <ul>
 *   <li>{@code GET /socket/export?bytes=N}: {@link #writeRows} writes the rows and cannot ignore backpressure
 *       either: while the kernel's send buffer is full, the connection's thread waits inside {@code write()}. The
 *       agent (layer {@code socket}) shows that thread as a blocked connection, the bytes of the blocked call as its
 *       pending bytes, and, on Linux, the kernel's send queue beside them.</li>
 * </ul>
 *
 * Each connection ends with one line on stdout: {@code socket export #N to ADDRESS:PORT: ended (...)}.
 */
public final class SocketService implements AutoCloseable {
    /** The start of the line each export ends with. */
    static final String ENDED = "socket export #";

    /** The stream's buffer: each socket write hands over this much (the pending bytes of a blocked write). */
    static final int BUFFER_SIZE = 16 * 1024;
    /** Rows go into the buffered stream in pieces this large, as an application writing line by line would. */
    static final int PIECE_SIZE = 4 * 1024;
    /** A request head larger than this is refused; the endpoint takes no body. */
    private static final int MAX_HEAD = 8 * 1024;
    /** A client that connects and sends no request is dropped after this long. */
    private static final int HEAD_TIMEOUT_MILLIS = 10_000;

    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger ids = new AtomicInteger();
    private volatile boolean closed;

    private SocketService(String host, int port) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 50);
        acceptor = new Thread(this::acceptLoop, "socket-export-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Listens on {@code host:port} (0: a free port). */
    public static SocketService start(String host, int port) throws IOException {
        return new SocketService(host, port);
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
            export(s, raw, bytes, id);
        } catch (IOException e) {
            // the client went away during a short response
        }
    }

    private void export(Socket s, OutputStream raw, long bytes, int id) {
        CsvExport rows = new CsvExport(bytes);
        long start = System.nanoTime();
        String reason;
        Taken taken = new Taken(raw);
        OutputStream out = new BufferedOutputStream(taken, BUFFER_SIZE);
        try {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Length: " + bytes
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            writeRows(out, rows);
            out.flush();
            s.shutdownOutput();
            reason = "complete";
        } catch (IOException e) {
            reason = closed ? "the service stopped" : "the client went away";
        }
        ReportingService.say(ENDED + id + " to " + peer(s) + ": ended (" + reason + ") after "
                + Units.seconds(System.nanoTime() - start) + " — the socket took " + Units.size(taken.bytes)
                + " (response head included)");
    }

    /**
     * Counts the bytes whose {@code write} returned: what the kernel took. Less what the client read, that is what
     * sat in the kernel's buffers (the send queue, and the client's receive buffer) when the export ended.
     */
    private static final class Taken extends java.io.FilterOutputStream {
        long bytes;

        Taken(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            bytes += len;
        }
    }

    /**
     * Blocking writes: the thread that writes waits inside {@code write()} whenever the kernel's send buffer is full,
     * so it cannot outrun the client; what it costs is the thread.
     */
    static void writeRows(OutputStream out, CsvExport rows) throws IOException {
        byte[] piece = new byte[PIECE_SIZE];
        while (rows.hasMore()) {
            int n = rows.read(piece, 0, piece.length);
            out.write(piece, 0, n);
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

    private static String peer(Socket s) {
        return s.getInetAddress().getHostAddress() + ":" + s.getPort();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }
}

package io.highwater.demo;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * The lesson on plain sockets: one CSV export streamed to a slow phone from a {@link java.net.ServerSocket}, a thread
 * per connection ({@link SocketServer}), through a {@link BufferedOutputStream}.
 *
 * <p>A blocking socket cannot be outrun: while the kernel's send buffer is full, {@code write()} does not return, so
 * there is no signal to ignore. What it costs is the thread, which waits as long as the phone dawdles (a thousand
 * phones, a thousand threads), and the backlog moves into the kernel: several MiB of send queue per connection on
 * loopback, beside at most one buffer in the process (what is left of the blocked call). The agent (layer
 * {@code socket}) shows the waiting thread as a blocked connection, the bytes of its blocked call as its pending bytes,
 * and, on Linux, the kernel's send queue beside them.
 */
final class SocketExport {
    /** The start of the line each export ends with: {@code socket export #N to ADDRESS:PORT: ended (...) ...}. */
    static final String ENDED = "socket export #";
    /** The stream's buffer: each socket write hands over this much (the pending bytes of a blocked write). */
    static final int BUFFER_SIZE = 16 * 1024;
    /** Rows go into the buffered stream in pieces this large, as an application writing line by line would. */
    static final int PIECE_SIZE = 4 * 1024;

    private SocketExport() {
    }

    /**
     * Writes the rows: the thread that writes waits inside {@code write()} whenever the kernel's send buffer is full,
     * so it cannot outrun the client.
     */
    static void writeRows(OutputStream out, CsvExport rows) throws IOException {
        byte[] piece = new byte[PIECE_SIZE];
        while (rows.hasMore()) {
            int n = rows.read(piece, 0, piece.length);
            out.write(piece, 0, n);
        }
    }

    /**
     * Sends {@code bytes} of rows as the response on {@code socket}, on the connection's own thread, then says how it
     * ended and how much the kernel took: less what the phone read, that sat in the kernel's buffers.
     */
    static void stream(Socket socket, int id, long bytes, BooleanSupplier serviceStopped) throws IOException {
        long start = System.nanoTime();
        Taken taken = new Taken(socket.getOutputStream());
        OutputStream out = new BufferedOutputStream(taken, BUFFER_SIZE);
        String reason;
        try {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Length: " + bytes
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            writeRows(out, new CsvExport(bytes));
            out.flush();
            socket.shutdownOutput();
            reason = "complete";
        } catch (IOException e) {
            reason = serviceStopped.getAsBoolean() ? "the service stopped" : "the client went away";
        }
        ReportingService.say(ENDED + id + " to " + socket.getInetAddress().getHostAddress() + ":" + socket.getPort()
                + ": ended (" + reason + ") after " + Units.seconds(System.nanoTime() - start) + " — the socket took "
                + Units.size(taken.bytes) + " (response head included)");
    }

    /** Counts the bytes whose {@code write} returned: what the kernel took. */
    private static final class Taken extends FilterOutputStream {
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
}

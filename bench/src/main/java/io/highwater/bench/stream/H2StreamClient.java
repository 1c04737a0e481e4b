package io.highwater.bench.stream;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@link StreamClient} over HTTP/2 without TLS (prior knowledge), for {@code bench/scripts/streaming.sh --h2c}: one
 * connection per {@code bytes} argument, one GET on stream 1, its DATA read to the end of the stream as fast as
 * it can, the windows kept open (a 2^31-1 initial window, and each GiB read given back to the stream and the
 * connection), SETTINGS and PINGs acknowledged. Plain JDK, a minimal frame reader: HTTP/2 is the server's side of
 * the measurement, the client only has to keep it busy.
 *
 * <p>Usage: {@code H2StreamClient <port> <bytes>...} ({@code -1}: whatever the server sends);
 * {@code -Dbench.pause.ms=N} waits N ms before each connection.
 */
public final class H2StreamClient {

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0;
    private static final int SETTINGS = 4;
    private static final int PING = 6;
    private static final int GOAWAY = 7;
    private static final int RST_STREAM = 3;
    private static final int END_STREAM = 1;
    private static final int ACK = 1;
    private static final int MAX_WINDOW = Integer.MAX_VALUE;
    private static final long GIVE_BACK = 1L << 30;

    private H2StreamClient() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        int port = Integer.parseInt(args[0]);
        long pause = Long.getLong("bench.pause.ms", 0);
        for (int i = 1; i < args.length; i++) {
            if (pause > 0) {
                Thread.sleep(pause);
            }
            long expected = Long.parseLong(args[i]);
            long start = System.nanoTime();
            long got = stream(port);
            double secs = (System.nanoTime() - start) / 1e9;
            if (expected >= 0 && got != expected) {
                System.err.println("client: connection " + i + " got " + got + " bytes, expected " + expected);
                System.exit(1);
            }
            System.out.printf(java.util.Locale.ROOT, "client n=%d bytes=%d secs=%.3f MiB/s=%.0f%n",
                    i, got, secs, got / secs / (1 << 20));
        }
    }

    /** One GET; the bytes of its response's DATA frames. */
    private static long stream(int port) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 20));
            out.write(PREFACE);
            // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 2^31-1, and the connection's window as large
            out.write(frame(SETTINGS, 0, 0, ByteBuffer.allocate(6).putShort((short) 4).putInt(MAX_WINDOW).array()));
            out.write(windowUpdate(0, MAX_WINDOW - 65_535));
            out.write(frame(1, 0x5, 1, requestHeaders(port)));
            out.flush();
            byte[] scratch = new byte[1 << 14];
            long got = 0;
            long unacknowledged = 0;
            while (true) {
                int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int streamId = in.readInt() & MAX_WINDOW;
                byte[] payload = length <= scratch.length ? scratch : new byte[length];
                in.readFully(payload, 0, length);
                if (type == DATA && streamId == 1) {
                    got += length;
                    unacknowledged += length;
                    if (unacknowledged >= GIVE_BACK) {
                        out.write(windowUpdate(0, (int) unacknowledged));
                        out.write(windowUpdate(1, (int) unacknowledged));
                        out.flush();
                        unacknowledged = 0;
                    }
                    if ((flags & END_STREAM) != 0) {
                        return got;
                    }
                } else if (type == SETTINGS && (flags & ACK) == 0) {
                    out.write(frame(SETTINGS, ACK, 0, new byte[0]));
                    out.flush();
                } else if (type == PING && (flags & ACK) == 0) {
                    byte[] data = new byte[8];
                    System.arraycopy(payload, 0, data, 0, 8);
                    out.write(frame(PING, ACK, 0, data));
                    out.flush();
                } else if (type == GOAWAY || (type == RST_STREAM && streamId == 1)) {
                    throw new IOException("the server ended the stream (frame type " + type + ") after " + got
                            + " bytes");
                }
            }
        }
    }

    /** GET / over http, HPACK without Huffman or the dynamic table (RFC 7541: indexed fields, one literal). */
    private static byte[] requestHeaders(int port) {
        byte[] authority = ("127.0.0.1:" + port).getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(5 + authority.length);
        b.put((byte) 0x82).put((byte) 0x86).put((byte) 0x84); // :method GET, :scheme http, :path /
        b.put((byte) 0x01).put((byte) authority.length).put(authority); // :authority, literal, not indexed
        return b.array();
    }

    private static byte[] windowUpdate(int streamId, int increment) {
        return frame(8, 0, streamId, ByteBuffer.allocate(4).putInt(increment).array());
    }

    private static byte[] frame(int type, int flags, int streamId, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
        b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
        b.put((byte) type).put((byte) flags).putInt(streamId).put(payload);
        return b.array();
    }
}

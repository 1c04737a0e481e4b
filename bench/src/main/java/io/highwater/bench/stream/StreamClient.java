package io.highwater.bench.stream;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The fast loopback reader of bench/scripts/streaming.sh: connects once per {@code bytes} argument, one after the
 * other, and reads each stream to its end as fast as it can (blocking reads into a 1 MiB direct buffer), checking
 * it got exactly the expected number of bytes. Plain JDK, no Netty, in its own process so its CPU time is not the
 * server's.
 *
 * <p>Usage: {@code StreamClient <port> <bytes>...} ({@code -1}: whatever the server sends); {@code -Dbench.pause.ms=N} waits N ms before each connection
 * (so that a server's one-time start-up work, an agent's included, is over before the stream).
 */
public final class StreamClient {

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long pause = Long.getLong("bench.pause.ms", 0);
        for (int i = 1; i < args.length; i++) {
            if (pause > 0) {
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            long expected = Long.parseLong(args[i]);
            long got = 0;
            long start = System.nanoTime();
            try (SocketChannel ch = SocketChannel.open()) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.connect(new InetSocketAddress("127.0.0.1", port));
                for (int n; (n = ch.read(buf)) >= 0; ) {
                    got += n;
                    buf.clear();
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            if (expected >= 0 && got != expected) {
                System.err.println("client: connection " + i + " got " + got + " bytes, expected " + expected);
                System.exit(1);
            }
            System.out.printf(java.util.Locale.ROOT, "client n=%d bytes=%d secs=%.3f MiB/s=%.0f%n",
                    i, got, secs, got / secs / (1 << 20));
        }
    }
}

package io.highwater.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client that requests one URL path and reads the response at a fixed rate through a small receive buffer (set
 * before connecting, so the kernel does not auto-tune it), optionally stopping to read for {@code pauseMillis} after
 * every {@code readMillis} of reading (a client that pauses: the writer's wait then has no drain progress). Runs on
 * its own daemon thread until {@link #close()}.
 */
final class SlowReader implements AutoCloseable {
    private final String name;
    private final int port;
    private final String path;
    private final long bytesPerSecond;
    private final long readMillis;
    private final long pauseMillis;
    private final AtomicLong read = new AtomicLong();
    private final Thread thread;
    private volatile Socket socket;
    private volatile boolean closed;
    private volatile String failure;
    private volatile int localPort = -1;

    SlowReader(String name, int port, String path, long bytesPerSecond, long readMillis, long pauseMillis) {
        this.name = name;
        this.port = port;
        this.path = path;
        this.bytesPerSecond = bytesPerSecond;
        this.readMillis = readMillis;
        this.pauseMillis = pauseMillis;
        this.thread = new Thread(this::run, "slow-reader-" + name);
        this.thread.setDaemon(true);
    }

    SlowReader start() {
        thread.start();
        return this;
    }

    long bytesRead() {
        return read.get();
    }

    /** The client's local port once connected (the server's {@code network.peer.port}), else -1. */
    int localPort() {
        return localPort;
    }

    String describe() {
        return name + " GET " + path + " at " + bytesPerSecond / 1024 + " KiB/s"
                + (pauseMillis > 0 ? " (pausing " + pauseMillis + " ms after every " + readMillis + " ms)" : "")
                + ": read " + read.get() + " bytes" + (failure != null ? ", " + failure : "");
    }

    private void run() {
        try (Socket s = new Socket()) {
            socket = s;
            s.setReceiveBufferSize(8 * 1024);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            localPort = s.getLocalPort();
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[4096];
            long start = System.nanoTime();
            long pausedNanos = 0;
            long phaseStart = start;
            while (!closed) {
                long now = System.nanoTime();
                if (pauseMillis > 0 && now - phaseStart >= readMillis * 1_000_000L) {
                    Thread.sleep(pauseMillis);
                    long after = System.nanoTime();
                    pausedNanos += after - now;
                    phaseStart = after;
                    continue;
                }
                // the pace: never ahead of bytesPerSecond over the time spent reading
                long allowed = (now - start - pausedNanos) * bytesPerSecond / 1_000_000_000L;
                long ahead = read.get() - allowed;
                if (ahead > 0) {
                    Thread.sleep(Math.max(1, ahead * 1000 / bytesPerSecond));
                    continue;
                }
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, Math.max(1, -ahead)));
                if (n < 0) {
                    failure = "server closed the connection";
                    return;
                }
                read.addAndGet(n);
            }
        } catch (IOException e) {
            if (!closed) {
                failure = e.toString();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        thread.interrupt();
    }
}

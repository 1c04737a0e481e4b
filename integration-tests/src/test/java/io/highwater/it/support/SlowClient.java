package io.highwater.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * A real, slow HTTP/1.1 client on a plain {@link Socket}: the kind of consumer that makes a server's backlog grow.
 *
 * <p>Its receive buffer is made small <em>before</em> connecting (so the TCP window is small from the handshake on
 * and the kernel does not auto-tune it), it sends one {@code GET} with {@code Connection: close}, then a reader
 * thread reads at a fixed pace ({@link Builder#bytesPerSecond}), sleeping between reads: the sleeps are the pacing
 * of a slow client, not synchronisation. Tests synchronise through the {@code await*} methods, which block on a
 * condition signalled after every read and every state change.
 *
 * <p>It can pause (stop reading entirely, so the server's data piles up), resume, pause by itself once a number of
 * body bytes has been read ({@link Builder#pauseAtBodyBytes}), and {@link #abort()} (close with RST, as a client
 * that goes away does). Thread-safe.
 */
public final class SlowClient implements AutoCloseable {

    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(120);
    private static final int MAX_HEAD = 16 * 1024;

    /** What the reader thread is doing. */
    public enum State { READING, PAUSED, DONE }

    /** The TCP connection; {@link #socket} is the same, or TLS over it. */
    private final Socket tcp;
    private final Socket socket;
    private final int port;
    private final String path;
    private final long bytesPerSecond;
    private final int readSize;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private long bytesRead;
    private long bodyBytesRead;
    private int status = -1;
    private long contentLength = -1;
    private boolean pauseRequested;
    private long pauseAtBodyBytes;
    private State state = State.READING;
    private boolean eof;
    private boolean aborted;
    private Throwable failure;
    private final ByteArrayOutputStream head = new ByteArrayOutputStream();
    private boolean headDone;

    private SlowClient(Builder b) throws IOException {
        this.port = b.port;
        this.path = b.path;
        this.bytesPerSecond = b.bytesPerSecond;
        this.readSize = b.readSize;
        this.pauseAtBodyBytes = b.pauseAtBodyBytes;
        this.tcp = new Socket();
        // before connect: the window scale is fixed in the handshake, and setting it disables auto-tuning
        if (b.receiveBuffer > 0) {
            tcp.setReceiveBufferSize(b.receiveBuffer);
        }
        tcp.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        this.socket = b.tls ? TrustingTls.wrap(tcp, port) : tcp;
        String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n"
                + b.headers + "\r\n";
        OutputStream out = socket.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        this.thread = new Thread(this::readLoop, "slow-client-" + socket.getLocalPort());
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * The most a server's kernel may hold in a connection's send queue on this machine (Linux
     * {@code net.ipv4.tcp_wmem}'s maximum; 4 MiB, its default, where it cannot be read): what a respecting server may
     * have handed on beyond what this client read.
     */
    public static long kernelSendBufferMax() {
        try {
            // a stream, not readString: /proc reports a size that is not its content's
            String[] v = java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/sys/net/ipv4/tcp_wmem"))
                    .get(0).trim().split("\\s+");
            return Long.parseLong(v[v.length - 1]);
        } catch (IOException | RuntimeException e) {
            return 4L << 20;
        }
    }

    public static Builder builder(int port, String path) {
        return new Builder(port, path);
    }

    /** The client's own ephemeral port: what the server (and the agent) see as {@code network.peer.port}. */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** The receive buffer the kernel actually granted (Linux doubles the request). */
    public int receiveBufferSize() {
        try {
            return socket.getReceiveBufferSize();
        } catch (SocketException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- reading

    private void readLoop() {
        byte[] buf = new byte[readSize];
        long paceStart = System.nanoTime();
        long paceBase = 0;
        try {
            InputStream in = socket.getInputStream();
            while (true) {
                int max;
                lock.lock();
                try {
                    boolean waited = false;
                    while (shouldPause()) {
                        state = State.PAUSED;
                        changed.signalAll();
                        changed.await();
                        waited = true;
                    }
                    if (aborted) {
                        break;
                    }
                    state = State.READING;
                    if (waited) {
                        // a pause is not credit: restart the pace from here
                        paceStart = System.nanoTime();
                        paceBase = bytesRead;
                        changed.signalAll();
                    }
                    max = buf.length;
                    if (headDone && pauseAtBodyBytes > 0) {
                        max = (int) Math.min(max, pauseAtBodyBytes - bodyBytesRead);
                    }
                } finally {
                    lock.unlock();
                }
                int n = in.read(buf, 0, max);
                if (n < 0) {
                    lock.lock();
                    try {
                        eof = true;
                    } finally {
                        lock.unlock();
                    }
                    break;
                }
                lock.lock();
                try {
                    bytesRead += n;
                    consume(buf, n);
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
                // pacing: never ahead of bytesPerSecond since the last (re)start
                long due = paceStart + (long) ((bytesRead() - paceBase) * 1e9 / bytesPerSecond);
                long ahead = due - System.nanoTime();
                if (ahead > 0) {
                    TimeUnit.NANOSECONDS.sleep(ahead);
                }
            }
        } catch (IOException e) {
            lock.lock();
            try {
                if (!aborted) {
                    failure = e;
                }
            } finally {
                lock.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            lock.lock();
            try {
                failure = e;
            } finally {
                lock.unlock();
            }
        } finally {
            lock.lock();
            try {
                state = State.DONE;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private boolean shouldPause() {
        if (aborted) {
            return false;
        }
        return pauseRequested || (headDone && pauseAtBodyBytes > 0 && bodyBytesRead >= pauseAtBodyBytes);
    }

    /** Splits what was read into the response head (parsed once complete) and body bytes. Called under lock. */
    private void consume(byte[] buf, int n) {
        if (headDone) {
            bodyBytesRead += n;
            return;
        }
        for (int i = 0; i < n; i++) {
            head.write(buf[i]);
            byte[] h = head.toByteArray();
            int len = h.length;
            if (len >= 4 && h[len - 4] == '\r' && h[len - 3] == '\n' && h[len - 2] == '\r' && h[len - 1] == '\n') {
                headDone = true;
                parseHead(new String(h, StandardCharsets.ISO_8859_1));
                bodyBytesRead += n - i - 1;
                return;
            }
            if (len > MAX_HEAD) {
                throw new IllegalStateException("response head longer than " + MAX_HEAD + " bytes");
            }
        }
    }

    private void parseHead(String text) {
        String[] lines = text.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw new IllegalStateException("not an HTTP/1.x response: " + lines[0]);
        }
        status = Integer.parseInt(statusLine[1]);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                contentLength = Long.parseLong(lines[i].substring(colon + 1).trim());
            }
        }
    }

    // ---------------------------------------------------------------- control

    /** Stops reading: the reader thread parks before its next read. See {@link #awaitPaused()}. */
    public void pause() {
        lock.lock();
        try {
            pauseRequested = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Resumes reading after {@link #pause()} or an automatic pause; clears {@link Builder#pauseAtBodyBytes}. */
    public void resume() {
        lock.lock();
        try {
            pauseRequested = false;
            pauseAtBodyBytes = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Closes the connection abruptly (RST), like a client that crashed or gave up; the reader thread ends. */
    public void abort() {
        lock.lock();
        try {
            aborted = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            tcp.setSoLinger(true, 0);
        } catch (SocketException ignored) {
            // already closed
        }
        try {
            tcp.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        abort();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- state

    public long bytesRead() {
        lock.lock();
        try {
            return bytesRead;
        } finally {
            lock.unlock();
        }
    }

    public long bodyBytesRead() {
        lock.lock();
        try {
            return bodyBytesRead;
        } finally {
            lock.unlock();
        }
    }

    /** HTTP status code, or -1 before the response head arrived. */
    public int status() {
        lock.lock();
        try {
            return status;
        } finally {
            lock.unlock();
        }
    }

    /** The response's Content-Length, or -1 when unknown (yet). */
    public long contentLength() {
        lock.lock();
        try {
            return contentLength;
        } finally {
            lock.unlock();
        }
    }

    public State state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /** True when the server closed the connection after sending exactly Content-Length body bytes. */
    public boolean isComplete() {
        lock.lock();
        try {
            return eof && failure == null && contentLength >= 0 && bodyBytesRead == contentLength;
        } finally {
            lock.unlock();
        }
    }

    public Throwable failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- waiting

    /** Waits until the response head arrived and at least {@code n} body bytes were read. */
    public SlowClient awaitBodyBytes(long n) {
        return await("at least " + n + " body bytes", true, () -> headDone && bodyBytesRead >= n);
    }

    /** Waits until the reader thread is parked in a pause (it reads nothing more until {@link #resume()}). */
    public SlowClient awaitPaused() {
        return await("the reader to pause", true, () -> state == State.PAUSED);
    }

    /** Waits until the reader thread ended: end of stream, failure or abort. */
    public SlowClient awaitEnd() {
        return await("the end of the response", false, () -> state == State.DONE);
    }

    /** Waits for the end and fails unless the whole body (Content-Length bytes) arrived and the server closed. */
    public SlowClient awaitComplete() {
        awaitEnd();
        if (!isComplete()) {
            throw new AssertionError("incomplete response from :" + port + path + ": " + this, failure());
        }
        return this;
    }

    private SlowClient await(String what, boolean failIfEnded, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEFAULT_WAIT.toNanos();
        lock.lock();
        try {
            while (!condition.getAsBoolean()) {
                if (failIfEnded && state == State.DONE) {
                    throw new AssertionError("connection ended before " + what + ": " + this, failure);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("gave up waiting for " + what + " after " + DEFAULT_WAIT.toSeconds()
                            + " s: " + this, failure);
                }
                changed.awaitNanos(left);
            }
            return this;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + what, e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "SlowClient[:" + localPort() + " -> :" + port + path + ", " + state + ", status " + status
                    + ", content-length " + contentLength + ", body " + bodyBytesRead + " of " + bytesRead
                    + " bytes read" + (eof ? ", eof" : "") + (aborted ? ", aborted" : "")
                    + (failure != null ? ", failed: " + failure : "") + "]";
        } finally {
            lock.unlock();
        }
    }

    /** Options of a {@link SlowClient}; {@link #connect()} opens the connection and starts reading. */
    public static final class Builder {
        private final int port;
        private final String path;
        private long bytesPerSecond = 200_000;
        private int receiveBuffer = 4096;
        private int readSize = 4096;
        private long pauseAtBodyBytes;
        private boolean tls;
        private final StringBuilder headers = new StringBuilder();

        private Builder(int port, String path) {
            this.port = port;
            this.path = path;
        }

        /** Reading pace; 200 KB/s by default. */
        public Builder bytesPerSecond(long rate) {
            if (rate <= 0) {
                throw new IllegalArgumentException("rate " + rate);
            }
            this.bytesPerSecond = rate;
            return this;
        }

        /** No pacing: read as fast as the connection delivers. */
        public Builder fullSpeed() {
            this.bytesPerSecond = Long.MAX_VALUE;
            return this;
        }

        /** SO_RCVBUF requested before connecting; 4 KiB by default; 0 leaves it to the OS (auto-tuning). */
        public Builder receiveBuffer(int bytes) {
            this.receiveBuffer = bytes;
            return this;
        }

        /** The most one read takes; 4 KiB by default. */
        public Builder readSize(int bytes) {
            this.readSize = bytes;
            return this;
        }

        /**
         * Pause by itself once this many body bytes were read: exactly this many, unless the read that completed
         * the response head already brought more.
         */
        public Builder pauseAtBodyBytes(long bytes) {
            this.pauseAtBodyBytes = bytes;
            return this;
        }

        /** TLS over the connection (trusting any server certificate: the tests' servers sign their own). */
        public Builder tls() {
            this.tls = true;
            return this;
        }

        /** One more request header, e.g. {@code Accept-Encoding: gzip}. */
        public Builder header(String name, String value) {
            headers.append(name).append(": ").append(value).append("\r\n");
            return this;
        }

        public SlowClient connect() {
            try {
                return new SlowClient(this);
            } catch (IOException e) {
                throw new IllegalStateException("cannot connect to 127.0.0.1:" + port, e);
            }
        }
    }
}

package io.highwater.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A collector endpoint whose behaviour a test switches while the agent exports to it: a real TCP listener on
 * 127.0.0.1 that, for each connection it accepts, does what the current mode says:
 * <ul>
 *   <li>{@link #hang()}: reads whatever comes and never answers, holding the connection open (a collector that
 *       accepts connections and then hangs);</li>
 *   <li>{@link #answer(int)}: reads the HTTP request and answers with that status and a short text body;</li>
 *   <li>{@link #forward()}: passes the bytes both ways to a real {@link OtlpReceiver}, which decodes them.</li>
 * </ul>
 * A switch applies to connections accepted after it; a hanging connection stays hanging. Thread-safe.
 */
public final class SwitchableCollector implements AutoCloseable {

    private static final int HANG = -1;
    private static final int FORWARD = 0;

    private final ServerSocket server;
    private final int receiverPort;
    private volatile int mode = HANG;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger acceptedHanging = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private static final Duration GUARD = Duration.ofSeconds(60);
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Paths of the requests taken while hanging, in order; guarded by {@link #lock}. */
    private final List<String> hangingRequests = new ArrayList<>();

    private SwitchableCollector(int receiverPort) throws IOException {
        this.receiverPort = receiverPort;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "switchable-collector");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts hanging; {@link #forward()} passes to {@code receiver}. */
    public static SwitchableCollector hanging(OtlpReceiver receiver) {
        try {
            return new SwitchableCollector(receiver.port());
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen", e);
        }
    }

    /** The base endpoint for {@code otel.exporter.otlp.endpoint}. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    public void hang() {
        mode = HANG;
    }

    public void answer(int status) {
        mode = status;
    }

    public void forward() {
        mode = FORWARD;
    }

    /** Connections accepted so far, in any mode. */
    public int accepted() {
        return accepted.get();
    }

    /** Connections accepted while hanging. */
    public int acceptedHanging() {
        return acceptedHanging.get();
    }

    private void accept() {
        try {
            while (true) {
                Socket s = server.accept();
                open.add(s);
                accepted.incrementAndGet();
                int m = mode;
                if (m == HANG) {
                    acceptedHanging.incrementAndGet();
                }
                Thread t = new Thread(() -> serve(s, m), "switchable-collector-" + accepted.get());
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException closed) {
            // closed by the test
        }
    }

    private void serve(Socket s, int m) {
        try {
            if (m == HANG) {
                InputStream in = s.getInputStream();
                hanging(requestPath(in));
                byte[] b = new byte[8192];
                while (in.read(b) >= 0) {
                    // reading and never answering
                }
            } else if (m == FORWARD) {
                forward(s);
            } else {
                answer(s, m);
            }
        } catch (IOException e) {
            // the agent gave up on this connection (its timeout), or the test ended
        } finally {
            close(s);
        }
    }

    /** The path of the request line ({@code POST /v1/metrics HTTP/1.1}), or "" when there was none. */
    private static String requestPath(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n'; ) {
            line.append((char) c);
        }
        String[] parts = line.toString().trim().split(" ");
        return parts.length >= 2 ? parts[1] : "";
    }

    private void hanging(String path) {
        lock.lock();
        try {
            hangingRequests.add(path);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@code count} requests for {@code path} were taken and left hanging. The second one of a signal
     * means that the first timed out at the agent (it retries only then). {@link #GUARD} only guards against hanging
     * forever.
     */
    public void awaitHangingRequests(String path, int count) {
        long deadline = System.nanoTime() + GUARD.toNanos();
        lock.lock();
        try {
            while (hangingRequests.stream().filter(path::equals).count() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("the collector took " + hangingRequests + " while hanging, not "
                            + count + " requests for " + path + " (gave up after " + GUARD.toSeconds() + " s)");
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } finally {
            lock.unlock();
        }
    }

    private static void answer(Socket s, int status) throws IOException {
        InputStream in = s.getInputStream();
        long length = readHead(in);
        for (long left = length; left > 0; ) {
            long n = in.skip(left);
            if (n <= 0) {
                if (in.read() < 0) {
                    break;
                }
                n = 1;
            }
            left -= n;
        }
        byte[] body = ("status " + status + " from the test's collector").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + (status == 500 ? "Internal Server Error" : status == 400
                ? "Bad Request" : "Error") + "\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n";
        OutputStream out = s.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    /** Reads the request head, returns its Content-Length (0 when absent). */
    private static long readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            head.write(c);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                break;
            }
        }
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                return Long.parseLong(line.substring(colon + 1).trim());
            }
        }
        return 0;
    }

    private void forward(Socket s) throws IOException {
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), receiverPort);
        open.add(upstream);
        Thread back = new Thread(() -> {
            try {
                pump(upstream.getInputStream(), s.getOutputStream());
            } catch (IOException e) {
                // one side closed
            } finally {
                close(s);
            }
        }, "switchable-collector-back");
        back.setDaemon(true);
        back.start();
        try {
            pump(s.getInputStream(), upstream.getOutputStream());
            upstream.shutdownOutput();
            back.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close(upstream);
        }
    }

    private static void pump(InputStream in, OutputStream out) throws IOException {
        byte[] b = new byte[8192];
        for (int n; (n = in.read(b)) >= 0; ) {
            out.write(b, 0, n);
            out.flush();
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        close(server);
        for (Socket s : open) {
            close(s);
        }
    }

    private static void close(ServerSocket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}

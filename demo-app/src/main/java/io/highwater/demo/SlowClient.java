package io.highwater.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * A client that downloads like a phone on a poor link: a plain {@link Socket} with a small receive buffer (set
 * before connecting, so the TCP window the server sees is small from the start) that reads the response at a fixed
 * rate, a few bytes every few milliseconds, and prints its progress.
 *
 * <p>It stops at the end of the body, when the server closes the connection, after {@code --seconds}, or when
 * {@link #stop()} is called from another thread. One instance downloads once; {@link #stop()} is the only method
 * meant for another thread.
 */
public final class SlowClient {
    private static final String USAGE = String.join("\n",
            "usage: java -jar highwater-demo.jar slow-client [options]",
            "  --url URL              e.g. http://127.0.0.1:8080/export/ignoring?bytes=400m",
            "  --host H --port N --path P   the same in parts (defaults 127.0.0.1, 8080, /export/respecting)",
            "  --rate SIZE            bytes per second to read (default 200k = 200 KiB/s)",
            "  --seconds D            stop after D (default: read to the end of the body)",
            "  --receive-buffer SIZE  socket receive buffer, set before connecting (default 8k)",
            "  --progress D           print progress every D (default 2s)",
            "  --quiet                print only the final line");

    /** Interval between two paced reads. */
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /** What to download and how slowly. */
    public static final class Options {
        String host = "127.0.0.1";
        int port = 8080;
        String path = "/export/respecting";
        long bytesPerSecond = 200L * 1024;
        long maxNanos;
        int receiveBuffer = 8 * 1024;
        long progressNanos = TimeUnit.SECONDS.toNanos(2);
        boolean quiet;
        String label = "slow-client";
        PrintStream out = System.out;
        /** When set, lines go here (already prefixed with the label) instead of {@link #out}. */
        Consumer<String> lines;
        /** Called once with the socket's local port right after it connects (the server's peer port). */
        IntConsumer onConnected;

        public Options target(String host, int port, String path) {
            this.host = host;
            this.port = port;
            this.path = path;
            return this;
        }

        public Options rate(long bytesPerSecond) {
            this.bytesPerSecond = bytesPerSecond;
            return this;
        }

        public Options maxNanos(long nanos) {
            this.maxNanos = nanos;
            return this;
        }

        public Options label(String label) {
            this.label = label;
            return this;
        }

        public Options quiet(boolean quiet) {
            this.quiet = quiet;
            return this;
        }

        public Options progressNanos(long nanos) {
            this.progressNanos = nanos;
            return this;
        }

        public Options lines(Consumer<String> lines) {
            this.lines = lines;
            return this;
        }

        public Options onConnected(IntConsumer onConnected) {
            this.onConnected = onConnected;
            return this;
        }
    }

    /** Where a download stands, for a live display; a snapshot, safe to keep. */
    public static final class Progress {
        /** The socket's local port, or -1 before it connected. */
        public int localPort = -1;
        public long bodyBytes;
        /** The announced {@code Content-Length}, or -1 (not yet known or none). */
        public long contentLength = -1;
        /** Time since the request was sent, or 0 before. */
        public long elapsedNanos;
        public boolean finished;
        /** Why it ended, when {@link #finished}. */
        public String endReason = "";

        public double bytesPerSecond() {
            return elapsedNanos <= 0 ? 0 : bodyBytes / (elapsedNanos / 1e9);
        }
    }

    /** How a download went. */
    public static final class Result {
        public int status;
        /** Body bytes read (headers excluded). */
        public long bodyBytes;
        /** The announced {@code Content-Length}, or -1. */
        public long contentLength = -1;
        public boolean complete;
        public String endReason = "";
        public long nanos;
        /** The socket's local port (the server's peer port), or -1. */
        public int localPort = -1;

        public double bytesPerSecond() {
            return nanos <= 0 ? 0 : bodyBytes / (nanos / 1e9);
        }
    }

    private final Options options;
    private volatile boolean stopRequested;
    // live state for progress(): written by the downloading thread only
    private volatile int localPort = -1;
    private volatile long liveBodyBytes;
    private volatile long liveContentLength = -1;
    private volatile long startNanos;
    private volatile long endNanos;
    private volatile String endReason;

    public SlowClient(Options options) {
        if (options.bytesPerSecond <= 0) {
            throw new IllegalArgumentException("the rate must be positive");
        }
        this.options = options;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The {@code slow-client} sub-command. */
    static int run(String[] args) {
        Options o = new Options();
        try {
            Args a = Args.parse(args,
                    Args.names("url", "host", "port", "path", "rate", "seconds", "receive-buffer", "progress"),
                    Args.names("quiet", "help"));
            if (a.has("help")) {
                System.out.println(USAGE);
                return 0;
            }
            if (a.has("url")) {
                URI uri = URI.create(a.get("url", null));
                if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
                    throw new IllegalArgumentException("--url wants http://host[:port]/path, not " + uri);
                }
                o.host = uri.getHost();
                o.port = uri.getPort() < 0 ? 80 : uri.getPort();
                o.path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            }
            o.host = a.get("host", o.host);
            o.port = a.integer("port", o.port);
            o.path = a.get("path", o.path);
            o.bytesPerSecond = a.size("rate", "200k");
            o.maxNanos = a.nanos("seconds", "0");
            o.receiveBuffer = (int) a.size("receive-buffer", "8k");
            o.progressNanos = a.nanos("progress", "2s");
            o.quiet = a.has("quiet");
        } catch (IllegalArgumentException e) {
            System.err.println("slow-client: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        try {
            Result r = new SlowClient(o).download();
            return r.status >= 200 && r.status < 300 ? 0 : 1;
        } catch (IOException e) {
            System.err.println("slow-client: " + e);
            return 1;
        }
    }

    /** Asks a running {@link #download()} to stop soon; safe from any thread. */
    public void stop() {
        stopRequested = true;
    }

    /** Where the download stands now; safe from any thread. */
    public Progress progress() {
        Progress p = new Progress();
        p.localPort = localPort;
        p.bodyBytes = liveBodyBytes;
        p.contentLength = liveContentLength;
        long start = startNanos;
        long end = endNanos;
        p.finished = endReason != null;
        p.endReason = p.finished ? endReason : "";
        p.elapsedNanos = start == 0 ? 0 : (end != 0 ? end : System.nanoTime()) - start;
        return p;
    }

    /** Connects, sends the request and reads the response at the configured rate; prints progress. */
    public Result download() throws IOException {
        Options o = options;
        Result r = new Result();
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(o.receiveBuffer); // before connect: the window scale is agreed in the handshake
            s.setSoTimeout(100);
            s.connect(new InetSocketAddress(o.host, o.port), 10_000);
            localPort = s.getLocalPort();
            if (o.onConnected != null) {
                o.onConnected.accept(localPort);
            }
            String request = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + o.port
                    + "\r\nUser-Agent: highwater-slow-client\r\nAccept: */*\r\nConnection: close\r\n\r\n";
            if (!o.quiet) {
                say(String.format(Locale.ROOT, "GET %s from %s:%d at %s, receive buffer %s", o.path, o.host, o.port,
                        Units.rate(o.bytesPerSecond), Units.size(s.getReceiveBufferSize())));
            }
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            read(s.getInputStream(), r);
        } catch (IOException e) {
            endReason = "failed: " + e.getMessage();
            throw e;
        }
        endReason = r.endReason;
        say(String.format(Locale.ROOT, "done: %s of body in %s (%s), HTTP %d, %s", Units.size(r.bodyBytes),
                Units.seconds(r.nanos), Units.rate(r.bytesPerSecond()), r.status, r.endReason));
        return r;
    }

    private void read(InputStream in, Result r) {
        Options o = options;
        byte[] buf = new byte[64 * 1024];
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        boolean inBody = false;
        long start = System.nanoTime();
        startNanos = start;
        long nextProgress = start + o.progressNanos;
        long total = 0; // all bytes read, headers included: what the pacing limits
        long minStep = Math.max(1, o.bytesPerSecond * TICK_NANOS / TimeUnit.SECONDS.toNanos(1));
        while (true) {
            long now = System.nanoTime();
            if (stopRequested) {
                r.endReason = "stopped";
                break;
            }
            if (o.maxNanos > 0 && now - start >= o.maxNanos) {
                r.endReason = "stopped after " + Units.seconds(o.maxNanos);
                break;
            }
            if (inBody && r.contentLength >= 0 && r.bodyBytes >= r.contentLength) {
                r.complete = true;
                r.endReason = "end of body";
                break;
            }
            if (o.progressNanos > 0 && now >= nextProgress && !o.quiet) {
                nextProgress += o.progressNanos;
                say(progress(r, now - start));
            }
            long allowed = (long) ((now - start) / 1e9 * o.bytesPerSecond) - total;
            if (allowed < minStep) {
                long wait = (long) ((total + minStep) * 1e9 / o.bytesPerSecond) - (now - start);
                LockSupport.parkNanos(Math.max(wait, 100_000));
                continue;
            }
            int want = (int) Math.min(buf.length, allowed);
            if (inBody && r.contentLength >= 0) {
                want = (int) Math.max(1, Math.min(want, r.contentLength - r.bodyBytes));
            }
            int n;
            try {
                n = in.read(buf, 0, want);
            } catch (SocketTimeoutException e) {
                continue;
            } catch (SocketException e) {
                r.endReason = stopRequested ? "stopped" : "connection " + describe(e);
                break;
            } catch (IOException e) {
                r.endReason = "read failed: " + e;
                break;
            }
            if (n < 0) {
                r.endReason = inBody && r.contentLength < 0 ? "end of body (server closed)"
                        : "the server closed the connection"
                                + (inBody ? " after " + Units.size(r.bodyBytes) + " of " + Units.size(r.contentLength)
                                        : " before the headers ended");
                r.complete = inBody && r.contentLength < 0;
                break;
            }
            total += n;
            if (inBody) {
                r.bodyBytes += n;
                liveBodyBytes = r.bodyBytes;
            } else {
                head.write(buf, 0, n);
                int end = headerEnd(head.toByteArray());
                if (end >= 0) {
                    inBody = true;
                    byte[] all = head.toByteArray();
                    parseHead(new String(all, 0, end, StandardCharsets.ISO_8859_1), r);
                    r.bodyBytes = all.length - end - 4;
                    liveBodyBytes = r.bodyBytes;
                    liveContentLength = r.contentLength;
                    if (!o.quiet) {
                        say("HTTP " + r.status + ", " + (r.contentLength >= 0 ? "Content-Length "
                                + Units.size(r.contentLength) : "no Content-Length"));
                    }
                }
            }
        }
        endNanos = System.nanoTime();
        r.nanos = endNanos - start;
    }

    private String progress(Result r, long elapsed) {
        String of = r.contentLength >= 0 ? " of " + Units.size(r.contentLength) : "";
        return String.format(Locale.ROOT, "read %s%s in %s (%s)", Units.size(r.bodyBytes), of,
                Units.seconds(elapsed), Units.rate(elapsed <= 0 ? 0 : r.bodyBytes / (elapsed / 1e9)));
    }

    private static String describe(SocketException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("reset")) {
            return "reset by the server";
        }
        return "failed: " + e.getMessage();
    }

    private static int headerEnd(byte[] b) {
        for (int i = 0; i + 3 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static void parseHead(String head, Result r) {
        String[] lines = head.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        try {
            r.status = Integer.parseInt(statusLine[1]);
        } catch (RuntimeException e) {
            r.status = -1;
        }
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                try {
                    r.contentLength = Long.parseLong(lines[i].substring(colon + 1).trim());
                } catch (NumberFormatException e) {
                    r.contentLength = -1;
                }
            }
        }
    }

    private void say(String line) {
        if (options.lines != null) {
            options.lines.accept("[" + options.label + "] " + line);
            return;
        }
        PrintStream out = options.out;
        synchronized (out) {
            out.println("[" + options.label + "] " + line);
            out.flush();
        }
    }
}

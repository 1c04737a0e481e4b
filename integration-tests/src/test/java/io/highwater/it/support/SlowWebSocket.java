package io.highwater.it.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real WebSocket client that reads slowly: the JDK's {@code java.net.http.WebSocket}, asking for one more frame
 * only when the bytes received so far are due at {@code bytesPerSecond}, so the server's sends back up in its socket
 * and then in its container. Counts bytes and whole messages received.
 */
public final class SlowWebSocket implements AutoCloseable {

    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong messages = new AtomicLong();
    private final ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "slow-websocket-pacer");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient client = HttpClient.newHttpClient();
    private final WebSocket socket;
    private final long t0 = System.nanoTime();

    private SlowWebSocket(int port, String path, long bytesPerSecond) throws Exception {
        socket = client.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + path),
                new WebSocket.Listener() {
                    @Override
                    public void onOpen(WebSocket ws) {
                        ws.request(1);
                    }

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        received(ws, data.length(), last, bytesPerSecond);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                        received(ws, data.remaining(), last, bytesPerSecond);
                        return null;
                    }
                }).get(30, TimeUnit.SECONDS);
    }

    private void received(WebSocket ws, long n, boolean last, long bytesPerSecond) {
        long total = bytes.addAndGet(n);
        if (last) {
            messages.incrementAndGet();
        }
        long due = t0 + total * 1_000_000_000L / bytesPerSecond;
        // never block the listener: the next frame is asked for when it is due
        pacer.schedule(() -> ws.request(1), Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Connects to {@code ws://127.0.0.1:port/path} and reads at {@code bytesPerSecond}. */
    public static SlowWebSocket connect(int port, String path, long bytesPerSecond) {
        try {
            return new SlowWebSocket(port, path, bytesPerSecond);
        } catch (Exception e) {
            throw new IllegalStateException("websocket connect to " + port + path, e);
        }
    }

    public long bytes() {
        return bytes.get();
    }

    public long messages() {
        return messages.get();
    }

    /** The client goes away: its connection is aborted, as a client that vanishes. */
    public void goAway() {
        socket.abort();
        pacer.shutdownNow();
    }

    @Override
    public void close() {
        goAway();
    }
}

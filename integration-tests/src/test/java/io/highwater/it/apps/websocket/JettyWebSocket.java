package io.highwater.it.apps.websocket;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;
import org.eclipse.jetty.websocket.core.server.WebSocketUpgradeHandler;

import java.lang.reflect.Field;
import java.util.Collection;

/**
 * Jetty 12 with two WebSocket endpoints on Jetty's core API (the session queue every Jetty WebSocket API, Jakarta's
 * included, sends through), each sending {@link #COUNT} text messages of {@link #MESSAGE} bytes when a client
 * connects. {@code /ignoring} sends without waiting for completions: Jetty queues them all in the session's
 * {@code WebSocketFlusher}; the app counts the sends it made while that queue held more than
 * {@link #TOLERANCE} frames ({@code IGNORING-DONE sent=… whileQueued=…}), then prints the queue's size every 200 ms
 * ({@code TRUTH queued=… queuedBytes=…}, read from Jetty's own field). {@code /respecting} waits for each send's
 * callback ({@code RESPECTING-DONE sent=…}).
 */
public final class JettyWebSocket {

    public static final int MESSAGE = 8 * 1024;
    public static final int COUNT = 8192;
    /** The agent's default {@code highwater.websocket.tolerance}. */
    public static final int TOLERANCE = 16;

    private JettyWebSocket() {
    }

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(0);
        String txBuf = System.getProperty("it.jetty.txBufSize");
        if (txBuf != null) {
            // a fixed, small socket send buffer: blocking sends wait for the client after a few hundred KB, not MB
            connector.setAcceptedSendBufferSize(Integer.parseInt(txBuf));
        }
        server.addConnector(connector);
        WebSocketUpgradeHandler ws = new WebSocketUpgradeHandler(WebSocketServerComponents.ensureWebSocketComponents(server));
        ws.addMapping("/ignoring", WebSocketNegotiator.from((rq, rs, cb) -> "ignoring", (p, rq, rs) -> new Sender(true)));
        ws.addMapping("/respecting", WebSocketNegotiator.from((rq, rs, cb) -> "respecting", (p, rq, rs) -> new Sender(false)));
        ws.addMapping("/basic", WebSocketNegotiator.from((rq, rs, cb) -> "basic", (p, rq, rs) -> new Basic(count(rq))));
        ws.addMapping("/flood", WebSocketNegotiator.from((rq, rs, cb) -> "flood", (p, rq, rs) -> new Sender(null)));
        server.setHandler(ws);
        server.start();
        System.out.println("CONTAINER jetty " + Server.getVersion());
        System.out.println("LISTENING " + connector.getLocalPort());
        server.join();
    }

    static final class Sender implements FrameHandler {
        /** True: {@code /ignoring}; false: {@code /respecting}; null: {@code /flood}. */
        private final Boolean ignoring;

        Sender(Boolean ignoring) {
            this.ignoring = ignoring;
        }

        @Override
        public void onOpen(CoreSession session, Callback callback) {
            callback.succeeded();
            new Thread(() -> {
                if (ignoring == null) {
                    flood(session);
                } else if (ignoring) {
                    ignoring(session);
                } else {
                    respecting(session);
                }
            }, ignoring == null ? "flood-sender" : ignoring ? "ignoring-sender" : "respecting-sender").start();
        }

        @Override
        public void onFrame(Frame frame, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onError(Throwable cause, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onClosed(CloseStatus closeStatus, Callback callback) {
            callback.succeeded();
        }
    }

    private static int count(org.eclipse.jetty.server.Request request) {
        String q = request.getHttpURI().getQuery();
        return q != null && q.startsWith("count=") ? Integer.parseInt(q.substring(6)) : BASIC_COUNT;
    }

    public static final int BASIC_MESSAGE = 64 * 1024;
    public static final int BASIC_COUNT = 96;
    /** The session's idle timeout: a write that makes no progress for this long fails, and so does its send. */
    public static final long BASIC_TIMEOUT_MS = 4_000;
    /** The sends the app reports as blocked: those that took at least this long (the agent's threshold, 1 ms). */
    public static final long BASIC_BLOCKED_NANOS = 1_000_000;

    /**
     * Blocking sends ({@code /basic?count=n}): binary messages of {@link #BASIC_MESSAGE} bytes, each sent with a
     * {@code FutureCallback} and waited on with {@code block()}, which is what Jetty's Jakarta
     * {@code RemoteEndpoint.Basic.sendBinary} does (ee10's {@code JakartaWebSocketBasicRemote}); the session's write
     * timeout at {@link #BASIC_TIMEOUT_MS}.
     */
    static final class Basic implements FrameHandler {
        private final int count;

        Basic(int count) {
            this.count = count;
        }

        @Override
        public void onOpen(CoreSession session, Callback callback) {
            session.setIdleTimeout(java.time.Duration.ofMillis(BASIC_TIMEOUT_MS));
            callback.succeeded();
            new Thread(() -> basic(session, count), "basic-sender").start();
        }

        @Override
        public void onFrame(Frame frame, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onError(Throwable cause, Callback callback) {
            callback.succeeded();
        }

        @Override
        public void onClosed(CloseStatus closeStatus, Callback callback) {
            callback.succeeded();
        }
    }

    /**
     * Sends one message after the other, timing each blocking send ({@code System.nanoTime()} around it): the ground
     * truth of the time blocked. Prints {@code BASIC-DONE sent=… blocked=… blockedNanos=… longestNanos=…} (the sends
     * that took at least 1 ms, their total and the longest), and, when a send fails (the idle timeout while the
     * client does not read), {@code BASIC-FAILED nanos=… queued=… unsent=…} first: how long the failed send blocked,
     * what is left in its payload buffer (Jetty writes from it: the bytes the socket never took), and the
     * frames Jetty's session queue held meanwhile (read from Jetty's field just before the send failed: the app's
     * own sends are one at a time, so none).
     */
    static void basic(CoreSession session, int count) {
        byte[] bytes = new byte[BASIC_MESSAGE];
        Collection<?> queue = queue(session);
        int sent = 0;
        int blocked = 0;
        long blockedNanos = 0;
        long longest = 0;
        while (sent < count) {
            long t0 = System.nanoTime();
            java.nio.ByteBuffer payload = java.nio.ByteBuffer.wrap(bytes);
            try {
                FutureCallback done = new FutureCallback();
                session.sendFrame(new Frame(OpCode.BINARY).setPayload(payload), done, false);
                done.block();
            } catch (java.io.IOException e) {
                long took = System.nanoTime() - t0;
                blocked++;
                blockedNanos += took;
                longest = Math.max(longest, took);
                // Jetty writes the payload buffer itself: what is left in it, the socket never took
                System.out.println("BASIC-FAILED nanos=" + took + " queued=" + queue.size() + " unsent="
                        + payload.remaining());
                break;
            }
            long took = System.nanoTime() - t0;
            if (took >= BASIC_BLOCKED_NANOS) {
                blocked++;
                blockedNanos += took;
                longest = Math.max(longest, took);
            }
            sent++;
        }
        System.out.println("BASIC-DONE sent=" + sent + " blocked=" + blocked + " blockedNanos=" + blockedNanos
                + " longestNanos=" + longest);
    }

    /** Sends without waiting for completions: Jetty queues every message. */
    static void ignoring(CoreSession session) {
        String message = "i".repeat(MESSAGE);
        Collection<?> queue = queue(session);
        long whileQueued = 0;
        for (int i = 0; i < COUNT; i++) {
            if (queue.size() > TOLERANCE) {
                whileQueued++;
            }
            session.sendFrame(new Frame(OpCode.TEXT, message), Callback.NOOP, false);
        }
        System.out.println("IGNORING-DONE sent=" + COUNT + " whileQueued=" + whileQueued);
        while (session.isOutputOpen()) {
            int queued = queue.size();
            System.out.println("TRUTH queued=" + queued + " queuedBytes=" + (long) queued * MESSAGE);
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Sends without waiting and without end, about 32 MB/s (a pause of 1 ms every 4 sends, so that the agent exports a
     * few times before the heap is full), until the heap is full: {@code FLOOD queued=…} every 1,024 sends (Jetty's
     * queue as the app reads it), then {@code OOM} (a constant: nothing is left to build a line with).
     */
    static void flood(CoreSession session) {
        String message = "f".repeat(MESSAGE);
        Collection<?> queue = queue(session);
        long sent = 0;
        try {
            while (true) {
                session.sendFrame(new Frame(OpCode.TEXT, message), Callback.NOOP, false);
                if (++sent % 1024 == 0) {
                    System.out.println("FLOOD queued=" + queue.size());
                }
                if (sent % 4 == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }
        } catch (OutOfMemoryError e) {
            reserve = null; // room to print in
            System.out.println(OOM);
        }
    }

    /** Let go of when the heap is full, so that the app can still say so. */
    @SuppressWarnings("unused")
    private static byte[] reserve = new byte[4 * 1024 * 1024];

    private static final String OOM = "OOM";

    /** Waits for each send's callback before the next. */
    static void respecting(CoreSession session) {
        String message = "r".repeat(MESSAGE);
        int sent = 0;
        try {
            for (; sent < COUNT / 16; sent++) {
                FutureCallback done = new FutureCallback();
                session.sendFrame(new Frame(OpCode.TEXT, message), done, false);
                done.get();
            }
        } catch (Exception e) {
            System.out.println("RESPECTING-FAILED " + e);
        }
        System.out.println("RESPECTING-DONE sent=" + sent);
    }

    /**
     * Jetty's own queue of the session's outgoing frames: {@code WebSocketFlusher._entries} (test code only);
     * {@code session} is a {@code WebSocketCoreSession}.
     */
    static Collection<?> queue(Object session) {
        try {
            Object flusher = field(session.getClass(), "flusher").get(session);
            return (Collection<?>) field(flusher.getClass(), "_entries").get(flusher);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // the superclass's
            }
        }
        throw new NoSuchFieldException(name);
    }
}

package io.highwater.it.apps.websocket;

import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpointConfig;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;

/**
 * Jetty 12's ee10 Jakarta WebSocket container with two programmatic {@code Endpoint}s, the way a Jakarta application
 * sends on it (no core-API call anywhere in the sending code):
 * <ul>
 *   <li>{@code /basic?count=n}: binary messages of {@link JettyWebSocket#BASIC_MESSAGE} bytes, one after the other,
 *       with {@code session.getBasicRemote().sendBinary}, each call timed with {@code System.nanoTime()} (the ground
 *       truth of the time blocked); the session's idle timeout ({@code setMaxIdleTimeout}) at
 *       {@link JettyWebSocket#BASIC_TIMEOUT_MS}, which fails a write that makes no progress for that long. Prints
 *       {@code BASIC-DONE sent=… blocked=… blockedNanos=… longestNanos=…} (sends of 1 ms or more, their total, the
 *       longest), and first {@code BASIC-FAILED nanos=… queued=… unsent=…} when a send fails (the frames in Jetty's
 *       session queue, what is left in the payload buffer).</li>
 *   <li>{@code /async?count=n}: binary messages of {@link JettyWebSocket#MESSAGE} bytes with
 *       {@code session.getAsyncRemote().sendBinary}, ignoring the futures: Jetty queues them in the session's
 *       flusher. The app counts the sends it made while that queue held more than {@link JettyWebSocket#TOLERANCE}
 *       frames ({@code ASYNC-DONE sent=… whileQueued=…}), then prints the queue every 200 ms
 *       ({@code TRUTH queued=… queuedBytes=…}).</li>
 * </ul>
 * Jetty's session queue is read from Jetty's own field through the Jakarta session's core session (test code only).
 */
public final class JettyJakartaWebSocket {

    private JettyJakartaWebSocket() {
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
        ServletContextHandler context = new ServletContextHandler("/");
        JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) -> {
            container.addEndpoint(ServerEndpointConfig.Builder.create(Basic.class, "/basic").build());
            container.addEndpoint(ServerEndpointConfig.Builder.create(Async.class, "/async").build());
        });
        server.setHandler(context);
        server.start();
        System.out.println("CONTAINER jetty " + Server.getVersion() + " ee10 jakarta "
                + JakartaWebSocketServletContainerInitializer.class.getPackage().getImplementationVersion());
        System.out.println("LISTENING " + connector.getLocalPort());
        server.join();
    }

    private static int count(Session session, int otherwise) {
        List<String> c = session.getRequestParameterMap().get("count");
        return c == null || c.isEmpty() ? otherwise : Integer.parseInt(c.get(0));
    }

    /** {@code /basic}: blocking sends. */
    public static final class Basic extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            session.setMaxIdleTimeout(JettyWebSocket.BASIC_TIMEOUT_MS);
            int count = count(session, JettyWebSocket.BASIC_COUNT);
            new Thread(() -> basic(session, count), "basic-sender").start();
        }
    }

    /** {@code /async}: asynchronous sends whose futures nobody looks at. */
    public static final class Async extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            int count = count(session, JettyWebSocket.COUNT);
            new Thread(() -> async(session, count), "async-sender").start();
        }
    }

    /** Blocking sends, each timed around the Jakarta call. */
    static void basic(Session session, int count) {
        byte[] bytes = new byte[JettyWebSocket.BASIC_MESSAGE];
        Collection<?> queue = queue(session);
        int sent = 0;
        int blocked = 0;
        long blockedNanos = 0;
        long longest = 0;
        while (sent < count) {
            long t0 = System.nanoTime();
            ByteBuffer payload = ByteBuffer.wrap(bytes);
            try {
                session.getBasicRemote().sendBinary(payload);
            } catch (IOException e) {
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
            if (took >= JettyWebSocket.BASIC_BLOCKED_NANOS) {
                blocked++;
                blockedNanos += took;
                longest = Math.max(longest, took);
            }
            sent++;
        }
        System.out.println("BASIC-DONE sent=" + sent + " blocked=" + blocked + " blockedNanos=" + blockedNanos
                + " longestNanos=" + longest);
    }

    /** Asynchronous sends without looking at their futures. */
    static void async(Session session, int count) {
        Collection<?> queue = queue(session);
        long whileQueued = 0;
        for (int i = 0; i < count; i++) {
            if (queue.size() > JettyWebSocket.TOLERANCE) {
                whileQueued++;
            }
            // a message of its own each time, as an application's serialised rows: the queue holds them all
            session.getAsyncRemote().sendBinary(ByteBuffer.wrap(new byte[JettyWebSocket.MESSAGE]));
        }
        System.out.println("ASYNC-DONE sent=" + count + " whileQueued=" + whileQueued);
        while (session.isOpen()) {
            int queued = queue.size();
            System.out.println("TRUTH queued=" + queued + " queuedBytes=" + (long) queued * JettyWebSocket.MESSAGE);
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Jetty's queue of the session's frames, through the Jakarta session's core session. */
    private static Collection<?> queue(Session session) {
        try {
            return JettyWebSocket.queue(session.getClass().getMethod("getCoreSession").invoke(session));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}

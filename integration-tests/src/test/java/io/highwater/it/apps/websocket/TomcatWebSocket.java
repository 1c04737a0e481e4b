package io.highwater.it.apps.websocket;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;
import org.apache.tomcat.websocket.server.WsSci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.concurrent.locks.LockSupport;

/**
 * Embedded Tomcat 11 with two Jakarta WebSocket endpoints that each send {@link #COUNT} text messages of
 * {@link #MESSAGE} bytes when a client connects. {@code /ignoring} sends async without waiting for the previous
 * send's completion: Tomcat refuses each send started while one is pending ({@code IllegalStateException}), and the
 * app counts the refusals and tries again ({@code IGNORING-DONE sent=… refused=…}, the ground truth).
 * {@code /respecting} waits for each send's {@code Future} before the next ({@code RESPECTING-DONE sent=…}).
 */
public final class TomcatWebSocket {

    public static final int MESSAGE = 16 * 1024;
    public static final int COUNT = 200;

    private TomcatWebSocket() {
    }

    public static void main(String[] args) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("it-tomcat-ws").toString());
        Connector connector = new Connector("HTTP/1.1");
        connector.setPort(0);
        String txBuf = System.getProperty("it.tomcat.txBufSize");
        if (txBuf != null) {
            // a fixed, small socket send buffer: blocking sends wait for the client after a few hundred KB, not MB
            connector.setProperty("socket.txBufSize", txBuf);
        }
        tomcat.setConnector(connector);
        Context ctx = tomcat.addContext("", null);
        ctx.addServletContainerInitializer(new WsSci(), null);
        ctx.addApplicationListener(Setup.class.getName());
        // Tomcat's WebSocket upgrade is a filter: a request that maps to no servlet is a 404 before any filter runs
        Tomcat.addServlet(ctx, "default", new HttpServlet() {
            private static final long serialVersionUID = 1L;
        }).addMapping("/");
        tomcat.start();
        System.out.println("CONTAINER " + ServerInfo.getServerInfo());
        System.out.println("LISTENING " + connector.getLocalPort());
        tomcat.getServer().await();
    }

    /** Registers the endpoints once Tomcat's WebSocket container exists. */
    public static final class Setup implements ServletContextListener {
        @Override
        public void contextInitialized(ServletContextEvent e) {
            ServerContainer sc = (ServerContainer) e.getServletContext().getAttribute(ServerContainer.class.getName());
            try {
                sc.addEndpoint(ServerEndpointConfig.Builder.create(Ignoring.class, "/ignoring").build());
                sc.addEndpoint(ServerEndpointConfig.Builder.create(Respecting.class, "/respecting").build());
                sc.addEndpoint(ServerEndpointConfig.Builder.create(Basic.class, "/basic").build());
                if (spring()) {
                    sc.addEndpoint(ServerEndpointConfig.Builder.create(SpringDecorated.class, "/spring").build());
                }
            } catch (DeploymentException ex) {
                throw new IllegalStateException(ex);
            }
        }
    }

    public static final class Ignoring extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            new Thread(() -> ignoring(session.getAsyncRemote()), "ignoring-sender").start();
        }
    }

    public static final class Respecting extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            new Thread(() -> respecting(session.getAsyncRemote()), "respecting-sender").start();
        }
    }

    /**
     * Blocking sends: {@link #BASIC_COUNT} (or the query's {@code count}) binary messages of {@link #BASIC_MESSAGE} bytes through
     * {@code getBasicRemote().sendBinary}, with Tomcat's blocking send timeout at {@link #BASIC_TIMEOUT_MS}.
     */
    public static final class Basic extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            session.getUserProperties().put("org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT", BASIC_TIMEOUT_MS);
            java.util.List<String> count = session.getRequestParameterMap().get("count");
            int n = count == null ? BASIC_COUNT : Integer.parseInt(count.get(0));
            new Thread(() -> basic(session.getBasicRemote(), n), "basic-sender").start();
        }
    }

    public static final int BASIC_MESSAGE = 64 * 1024;
    public static final int BASIC_COUNT = 96;
    public static final long BASIC_TIMEOUT_MS = 4_000;
    /** The sends the app reports as blocked: those that took at least this long (the agent's threshold, 1 ms). */
    public static final long BASIC_BLOCKED_NANOS = 1_000_000;

    /**
     * Sends one message after the other, timing each call ({@code System.nanoTime()} around it): the ground truth
     * of the time blocked. Prints {@code BASIC-DONE sent=… blocked=… blockedNanos=… longestNanos=…} (the sends that
     * took at least 1 ms, their total and the longest), and, when a send fails (Tomcat's timeout while the client
     * does not read), {@code BASIC-FAILED nanos=… unsent=…} first: how long the failed send blocked, and what of its
     * message the socket never took (the payload buffer's remainder: Tomcat advances its position as it writes).
     */
    static void basic(RemoteEndpoint.Basic remote, int count) {
        byte[] bytes = new byte[BASIC_MESSAGE];
        int sent = 0;
        int blocked = 0;
        long blockedNanos = 0;
        long longest = 0;
        while (sent < count) {
            ByteBuffer message = ByteBuffer.wrap(bytes);
            long t0 = System.nanoTime();
            try {
                remote.sendBinary(message);
            } catch (IOException e) {
                long took = System.nanoTime() - t0;
                blocked++;
                blockedNanos += took;
                longest = Math.max(longest, took);
                System.out.println("BASIC-FAILED nanos=" + took + " unsent=" + message.remaining());
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

    /** Whether Spring's WebSocket support is on the class path (the child of the Spring case only). */
    static boolean spring() {
        try {
            Class.forName("org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator");
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * Spring's {@code ConcurrentWebSocketSessionDecorator} over the session (send time limit 60 s, buffer size limit
     * {@link SpringLimits#BUFFER_LIMIT}), four threads sending 16 KiB messages without end: the thread that holds
     * the decorator's flush lock blocks in Tomcat's send, the others' messages pile up in the decorator's buffer
     * until it exceeds its limit and Spring throws. The app prints {@code SPRING-LIMIT bufferSize=… status=…}
     * (Spring's own figures) and closes the session.
     */
    public static final class SpringDecorated extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            SpringSenders.start(session);
        }
    }

    /** Sends without waiting: every send while the previous one is pending is refused; counted, tried again. */
    static void ignoring(RemoteEndpoint.Async remote) {
        String message = "i".repeat(MESSAGE);
        int sent = 0;
        long refused = 0;
        while (sent < COUNT) {
            try {
                remote.sendText(message, result -> { });
                sent++;
            } catch (IllegalStateException e) {
                refused++;
                LockSupport.parkNanos(200_000);
            }
        }
        System.out.println("IGNORING-DONE sent=" + sent + " refused=" + refused);
    }

    /** Waits for each send's completion before the next. */
    static void respecting(RemoteEndpoint.Async remote) {
        String message = "r".repeat(MESSAGE);
        int sent = 0;
        try {
            while (sent < COUNT) {
                remote.sendText(message).get();
                sent++;
            }
        } catch (Exception e) {
            System.out.println("RESPECTING-FAILED " + e);
        }
        System.out.println("RESPECTING-DONE sent=" + sent);
    }
}

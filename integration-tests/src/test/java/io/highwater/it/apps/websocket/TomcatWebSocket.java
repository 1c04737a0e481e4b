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
        tomcat.setConnector(connector);
        Context ctx = tomcat.addContext("", null);
        ctx.addServletContainerInitializer(new WsSci(), null);
        ctx.addApplicationListener(Setup.class.getName());
        // Tomcat's WebSocket upgrade is a filter: a request that maps to no servlet is a 404 before any filter runs
        Tomcat.addServlet(ctx, "default", new HttpServlet() {
            private static final long serialVersionUID = 1L;
        });
        ctx.addServletMappingDecoded("/", "default");
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

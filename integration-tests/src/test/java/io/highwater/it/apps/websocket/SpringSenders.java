package io.highwater.it.apps.websocket;

import jakarta.websocket.Session;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.adapter.standard.StandardWebSocketSession;
import org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator;
import org.springframework.web.socket.handler.SessionLimitExceededException;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;

/** See {@link TomcatWebSocket.SpringDecorated}; a class of its own so that Tomcat-only children never load Spring. */
final class SpringSenders {

    static final int BUFFER_LIMIT = SpringLimits.BUFFER_LIMIT;
    private static final int THREADS = 4;

    private SpringSenders() {
    }

    static void start(Session session) {
        // the handshake's addresses, which Spring's own upgrade strategy passes from the HTTP request; the Jakarta
        // API does not tell them, so this test app reads Tomcat's socket (test code only)
        InetSocketAddress local;
        InetSocketAddress remote;
        try {
            Object endpoint = field(session.getClass(), "wsRemoteEndpoint").get(session);
            Object socket = field(endpoint.getClass(), "socketWrapper").get(endpoint);
            Class<?> wrapper = Class.forName("org.apache.tomcat.util.net.SocketWrapperBase");
            local = new InetSocketAddress((String) wrapper.getMethod("getLocalAddr").invoke(socket),
                    (Integer) wrapper.getMethod("getLocalPort").invoke(socket));
            remote = new InetSocketAddress((String) wrapper.getMethod("getRemoteAddr").invoke(socket),
                    (Integer) wrapper.getMethod("getRemotePort").invoke(socket));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        StandardWebSocketSession s = new StandardWebSocketSession(null, null, local, remote);
        s.initializeNativeSession(session);
        ConcurrentWebSocketSessionDecorator d = new ConcurrentWebSocketSessionDecorator(s, 60_000, BUFFER_LIMIT);
        AtomicBoolean stop = new AtomicBoolean();
        for (int i = 0; i < THREADS; i++) {
            new Thread(() -> send(d, stop), "spring-sender-" + i).start();
        }
    }

    static void send(ConcurrentWebSocketSessionDecorator d, AtomicBoolean stop) {
        TextMessage message = new TextMessage("s".repeat(TomcatWebSocket.MESSAGE));
        try {
            while (!stop.get()) {
                d.sendMessage(message);
            }
        } catch (SessionLimitExceededException e) {
            stop.set(true);
            // Spring's reason names the buffer's size when it judged the limit exceeded
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Buffer size (\\d+) bytes").matcher(e.getMessage());
            System.out.println("SPRING-LIMIT atLimit=" + (m.find() ? m.group(1) : "-1") + " bufferSize="
                    + d.getBufferSize() + " status=" + e.getStatus().getCode());
            try {
                d.close(CloseStatus.SESSION_NOT_RELIABLE);
            } catch (Exception closing) {
                // closing anyway
            }
        } catch (Exception e) {
            stop.set(true);
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

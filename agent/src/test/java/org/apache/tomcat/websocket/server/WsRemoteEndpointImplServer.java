package org.apache.tomcat.websocket.server;

/**
 * Stands in for Tomcat's server endpoint in the agent's unit tests, under its real name: what the agent reads to tell
 * a WebSocket blocking send's socket write from any other is that the write's completion handler is an inner class
 * of this one, holding the endpoint in {@code this$0}, as Tomcat's {@code doWrite} makes it.
 */
public class WsRemoteEndpointImplServer {

    /** The socket wrapper the agent reads the connection's addresses and state from. */
    public final Object socketWrapper;

    public WsRemoteEndpointImplServer(Object socketWrapper) {
        this.socketWrapper = socketWrapper;
    }

    /** A completion handler as Tomcat's doWrite passes to the socket: it refers to its endpoint. */
    public Runnable completionHandler() {
        return new Runnable() {
            @Override
            public void run() {
                socketWrapper.hashCode();
            }
        };
    }
}

package io.highwater.websocket.bootstrap;

/**
 * What the WebSocket advice reports, on slow paths only. Arguments are {@code Object} so that this interface, on the
 * bootstrap class path, needs no container class: {@code endpoint} is Tomcat's
 * {@code org.apache.tomcat.websocket.WsRemoteEndpointImplBase} (the server's {@code WsRemoteEndpointImplServer}),
 * {@code flusher} Jetty's {@code org.eclipse.jetty.websocket.core.util.WebSocketFlusher}, {@code decorator} Spring's
 * {@code org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator}. Implementations never
 * throw and are thread-safe.
 */
public interface WebSocketHooks {

    /**
     * Tomcat: a send method is about to throw {@code thrown} (an {@code IllegalStateException}) to the application;
     * {@code payload} is the message it refused (a {@code String}, a {@code ByteBuffer}, or null for a stream or
     * writer).
     */
    void tomcatSendRefused(Object endpoint, Object payload, Throwable thrown);

    /** Tomcat: a non-blocking write of {@code buffers} did not complete inline: it waits for the socket. */
    void tomcatWritePending(Object endpoint, Object[] buffers);

    /** Tomcat: the endpoint's pending write completed (or failed): its send handler is being cleared. */
    void tomcatWriteDone(Object endpoint);

    /**
     * Tomcat: a socket's pending write {@code operation} ({@code SocketWrapperBase$OperationState}) found the socket
     * full and waits for the poller; when it is the blocking write of a {@code RemoteEndpoint.Basic} send (a send
     * stream's or writer's flush), its thread waits from now. Called again for the same write after each partial
     * write, from the poller's threads too.
     */
    void tomcatSocketWaits(Object operation);

    /** Tomcat: a blocking write of {@code endpoint} returned (the one {@link #tomcatSocketWaits} saw wait, if any). */
    void tomcatBlockingEnds(Object endpoint);

    /**
     * Jetty: {@code session}'s send returned with its completion {@code future} (a {@code FutureCallback}) not done:
     * the bytes are queued or on their way; a thread may wait on it next.
     */
    void jettySendPending(Object session, Object future);

    /**
     * Jetty: the calling thread starts waiting on {@code future}; returns a token for {@link #jettyBlockingEnds}, 0
     * when it is not a remembered send's.
     */
    long jettyBlockingBegins(Object future);

    /** Jetty: the wait that {@link #jettyBlockingBegins} returned {@code token} for returned. */
    void jettyBlockingEnds(Object future, long token);

    /** Jetty: {@code entry} (an {@code OutgoingEntry}) enters {@code flusher}'s queue while it holds entries. */
    void jettySendWhileQueued(Object flusher, Object entry);

    /** Jetty: one of {@code flusher}'s entries was written. */
    void jettyEntryDone(Object flusher);

    /** Spring: a send found another in progress and buffered its message: the decorator checks its limits. */
    void springBuffering(Object decorator);

    /** Spring: the decorator tried to flush its buffer (after every send). */
    void springFlushed(Object decorator);

    /** Spring: the decorator exceeded its send time or buffer size limit and is about to throw and close. */
    void springLimitExceeded(Object decorator, String reason);

    /** Does nothing: installed before the agent is ready and after it detached. */
    WebSocketHooks NOOP = new WebSocketHooks() {
        @Override
        public void tomcatSendRefused(Object endpoint, Object payload, Throwable thrown) {
        }

        @Override
        public void tomcatWritePending(Object endpoint, Object[] buffers) {
        }

        @Override
        public void tomcatWriteDone(Object endpoint) {
        }

        @Override
        public void tomcatSocketWaits(Object operation) {
        }

        @Override
        public void tomcatBlockingEnds(Object endpoint) {
        }

        @Override
        public void jettySendPending(Object session, Object future) {
        }

        @Override
        public long jettyBlockingBegins(Object future) {
            return 0;
        }

        @Override
        public void jettyBlockingEnds(Object future, long token) {
        }

        @Override
        public void jettySendWhileQueued(Object flusher, Object entry) {
        }

        @Override
        public void jettyEntryDone(Object flusher) {
        }

        @Override
        public void springBuffering(Object decorator) {
        }

        @Override
        public void springFlushed(Object decorator) {
        }

        @Override
        public void springLimitExceeded(Object decorator, String reason) {
        }
    };
}

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
     * Tomcat: a blocking write of {@code buffers} (a {@code RemoteEndpoint.Basic} send, a send stream's or writer's
     * flush) begins on the calling thread; returns a token for {@link #tomcatBlockingEnds}, 0 when not watched.
     */
    long tomcatBlockingBegins(Object endpoint, Object[] buffers);

    /** Tomcat: the blocking write that {@link #tomcatBlockingBegins} returned {@code token} for returned. */
    void tomcatBlockingEnds(Object endpoint, long token);

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
        public long tomcatBlockingBegins(Object endpoint, Object[] buffers) {
            return 0;
        }

        @Override
        public void tomcatBlockingEnds(Object endpoint, long token) {
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

package org.apache.tomcat.websocket.server;

import jakarta.servlet.ServletContext;
import jakarta.websocket.SendHandler;
import org.apache.coyote.http11.upgrade.UpgradeInfo;
import org.apache.tomcat.util.net.ApplicationBufferHandler;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.NioEndpoint;
import org.apache.tomcat.util.net.SSLSupport;
import org.apache.tomcat.util.net.SendfileDataBase;
import org.apache.tomcat.util.net.SendfileState;
import org.apache.tomcat.util.net.SocketBufferHandler;
import org.apache.tomcat.util.net.SocketWrapperBase;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;

/**
 * Tomcat 11's own server endpoint of a WebSocket session ({@code WsRemoteEndpointImplServer}, where the agent's
 * {@code doWrite} and {@code clearHandler} advice is inlined) over a socket wrapper whose socket takes every byte at
 * once, for the benchmark of that advice. Every class on the write path is Tomcat's: the endpoint's {@code doWrite},
 * {@code onWritePossible} and {@code clearHandler}, the socket wrapper's buffered {@code write} and {@code flush}, its
 * {@code SocketBufferHandler}; only the socket under them is replaced ({@link Socket#doWrite} drops the bytes). The
 * socket wrapper has no asynchronous I/O, so {@code doWrite} takes Tomcat's {@code useAsyncIO=false} branch (the NIO
 * connector's default is the asynchronous one, whose operation state machine needs a real channel); the agent's
 * advice sits at the method's entry and exit, outside either branch. In Tomcat's package for the protected
 * {@code doWrite}.
 */
public final class BenchWsEndpoint {

    private final WsRemoteEndpointImplServer endpoint;
    private final Socket socket;

    private BenchWsEndpoint(WsRemoteEndpointImplServer endpoint, Socket socket) {
        this.endpoint = endpoint;
        this.socket = socket;
    }

    /** A new endpoint over a socket that takes everything (until {@link #stall}). */
    public static BenchWsEndpoint create() {
        Socket socket = new Socket();
        WsServerContainer container = new WsServerContainer(servletContext());
        return new BenchWsEndpoint(new WsRemoteEndpointImplServer(socket, new UpgradeInfo(), container, null), socket);
    }

    /**
     * A non-blocking write ({@code RemoteEndpoint.Async}'s, and what a blocking send does without a timeout): Tomcat
     * writes the buffers, finds the socket ready, clears its handler and calls {@code handler} inline.
     */
    public void write(SendHandler handler, ByteBuffer... buffers) {
        endpoint.doWrite(handler, false, Long.MAX_VALUE, buffers);
    }

    /** A blocking write ({@code RemoteEndpoint.Basic}'s): the calling thread writes and flushes until done. */
    public void writeBlocking(SendHandler handler, ByteBuffer... buffers) {
        endpoint.doWrite(handler, true, Long.MAX_VALUE, buffers);
    }

    /** From now on the socket takes nothing: a non-blocking write stays pending (its handler set). */
    public void stall() {
        socket.stalled = true;
    }

    /** A socket wrapper with Tomcat's buffering and a socket that takes every byte (none while stalled). */
    static final class Socket extends SocketWrapperBase<NioChannel> {
        volatile boolean stalled;

        Socket() {
            this(new SocketBufferHandler(8192, 8192, false));
        }

        private Socket(SocketBufferHandler buffers) {
            // a NIO endpoint and channel that are never started or opened: Tomcat's types, no socket
            super(new NioChannel(buffers), syncEndpoint());
            socketBufferHandler = buffers;
        }

        /** Tomcat's NIO endpoint with {@code useAsyncIO=false}: the wrapper has no asynchronous I/O. */
        private static NioEndpoint syncEndpoint() {
            NioEndpoint e = new NioEndpoint();
            e.setUseAsyncIO(false);
            return e;
        }

        @Override
        protected void doWrite(boolean block, ByteBuffer from) {
            if (!stalled) {
                from.position(from.limit());
            }
        }

        @Override
        protected boolean flushNonBlocking() {
            // what is left in Tomcat's buffers: none unless stalled
            if (!socketBufferHandler.isWriteBufferEmpty()) {
                socketBufferHandler.configureWriteBufferForRead();
                doWrite(false, socketBufferHandler.getWriteBuffer());
            }
            return !socketBufferHandler.isWriteBufferEmpty() || !nonBlockingWriteBuffer.isEmpty();
        }

        @Override
        public void execute(Runnable runnable) {
            runnable.run(); // Tomcat's dispatch of a completion, inline (no executor here)
        }

        @Override
        protected void populateRemoteHost() {
        }

        @Override
        protected void populateRemoteAddr() {
        }

        @Override
        protected void populateRemotePort() {
        }

        @Override
        protected void populateLocalName() {
        }

        @Override
        protected void populateLocalAddr() {
        }

        @Override
        protected void populateLocalPort() {
        }

        @Override
        public int read(boolean block, byte[] b, int off, int len) {
            return 0;
        }

        @Override
        public int read(boolean block, ByteBuffer to) {
            return 0;
        }

        @Override
        public boolean isReadyForRead() {
            return false;
        }

        @Override
        public void setAppReadBufHandler(ApplicationBufferHandler handler) {
        }

        @Override
        protected void doClose() {
        }

        @Override
        public void registerReadInterest() {
        }

        @Override
        public void registerWriteInterest() {
        }

        @Override
        public SendfileDataBase createSendfileData(String filename, long pos, long length) {
            return null;
        }

        @Override
        public SendfileState processSendfile(SendfileDataBase sendfileData) {
            return SendfileState.DONE;
        }

        @Override
        public void doClientAuth(SSLSupport sslSupport) {
        }

        @Override
        public SSLSupport getSslSupport() {
            return null;
        }

        @Override
        protected <A> OperationState<A> newOperationState(boolean read, ByteBuffer[] buffers, int offset, int length,
                                                          BlockingMode block, long timeout, java.util.concurrent.TimeUnit unit,
                                                          A attachment, CompletionCheck check,
                                                          java.nio.channels.CompletionHandler<Long, ? super A> handler,
                                                          java.util.concurrent.Semaphore semaphore,
                                                          VectoredIOCompletionHandler<A> completion) {
            throw new UnsupportedOperationException("no asynchronous I/O here");
        }
    }

    /**
     * The servlet context the server container is made with: it asks for an instance manager and two init parameters
     * (none here) and registers its upgrade filter (a registration that does nothing).
     */
    private static ServletContext servletContext() {
        ClassLoader cl = BenchWsEndpoint.class.getClassLoader();
        Object registration = Proxy.newProxyInstance(cl,
                new Class<?>[] {jakarta.servlet.FilterRegistration.Dynamic.class}, (p, m, a) -> defaultFor(m));
        return (ServletContext) Proxy.newProxyInstance(cl, new Class<?>[] {ServletContext.class},
                (p, m, a) -> m.getName().equals("addFilter") ? registration : defaultFor(m));
    }

    private static Object defaultFor(java.lang.reflect.Method m) {
        Class<?> t = m.getReturnType();
        if (t == boolean.class) {
            return Boolean.FALSE;
        }
        if (t == int.class) {
            return 0;
        }
        return t == long.class ? (Object) 0L : null;
    }
}

package io.highwater.websocket;

import io.highwater.base.Members;
import io.highwater.core.Monitor;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.core.TransportProbe;
import io.highwater.websocket.bootstrap.WebSocketCalls;
import io.highwater.websocket.bootstrap.WebSocketHooks;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;

/**
 * Translates what the WebSocket advice sees into the model. Every method runs on a slow path only; the containers'
 * objects are read reflectively ({@link Members}), as the agent does not link against them.
 *
 * <p>Tomcat allows one message in flight per session: a send started while the previous one is pending is refused
 * with an {@code IllegalStateException} from its state machine. Each refusal is an ignored send,
 * {@code send_pending}, attributed to the application's frame (recorded before the exception leaves Tomcat). A
 * non-blocking write that did not complete inline is a stop until Tomcat clears its send handler; its bytes (what
 * remains of the buffers handed to the socket) are the connection's websocket share.
 *
 * <p>A Tomcat blocking send ({@code RemoteEndpoint.Basic}) makes its thread wait in the endpoint's blocking write
 * until the socket has taken the whole frame. Its wait begins where the socket first refuses bytes (the socket
 * wrapper registers write interest for the write's operation, whose completion handler names the endpoint); a send
 * the socket takes at once is no wait and is not looked at. A wait still running at the agent's timer, a millisecond
 * or more after it began, is a wait of its connection from its start (stop), until the write returns (go, or a close
 * when it returned with bytes unsent: the send timed out or the client went away). Its bytes are the frame's unsent
 * remainder, and its episode names the application's call, read from the blocked thread's stack. Tomcat's
 * {@code useAsyncIO="false"} connector writes another way, which is not watched.
 *
 * <p>Jetty queues every frame a session sends, without bound, in its {@code WebSocketFlusher}'s {@code _entries}:
 * an application that sends without waiting for completions piles its messages up there, on the heap. A data frame
 * sent while that queue holds frames begins a wait (the go is the queue emptied); with more than
 * {@code highwater.websocket.tolerance} frames queued it is an ignored send. The queue's payload bytes are the
 * connection's websocket share.
 *
 * <p>A Jetty blocking send (Jakarta's {@code RemoteEndpoint.Basic} on ee10, or a core-API send waited on the same way)
 * passes a {@code FutureCallback} to the session's send and waits on it: a future not done when the send returned is
 * remembered with the session's flusher, and a thread that waits on it is a blocking send of that connection, timed
 * as Tomcat's ({@link BlockingSends}). Its bytes are the session queue's share, not counted a second time.
 *
 * <p>Spring's {@code ConcurrentWebSocketSessionDecorator} buffers the messages of a send that finds another in
 * progress: its buffer is the connection's websocket share, a wait runs while it holds messages, and the close Spring
 * forces when the buffer or a send exceeds its limit ends the episode with Spring's reason.
 */
final class WebSocketAdapter implements WebSocketHooks {

    private static final String STATE_CHECK_CLASS = WebSocketInstrumentation.TOMCAT_BASE + "$StateMachine";
    private static final String JETTY_SESSION = WebSocketInstrumentation.JETTY_SESSION;
    private static final String JETTY_EE10_REMOTE = WebSocketInstrumentation.JETTY_EE10_REMOTE;
    /** Tomcat's write completion handlers of the server endpoint are its inner classes. */
    private static final String TOMCAT_SERVER_INNER = WebSocketInstrumentation.TOMCAT_SERVER + "$";
    private static final Members.Reader OPERATION_BLOCK = Members.fieldReader("block");
    private static final Members.Reader OPERATION_HANDLER = Members.fieldReader("handler");
    private static final Members.Reader OPERATION_BUFFERS = Members.fieldReader("buffers");
    private static final Members.Reader ENCLOSING = Members.fieldReader("this$0");
    private static final String JETTY_SESSION_FLUSHER = "org.eclipse.jetty.websocket.core.WebSocketCoreSession$Flusher";
    /** Most Tomcat endpoints with a pending write remembered at once (one entry per connection, dropped at completion). */
    private static final int MAX_PENDING = 1 << 16;

    private final Monitor monitor;
    private final int tolerance;
    private final int walkMax;
    private final Tracker tomcat;
    private final Tracker jetty;
    /** Tomcat endpoints whose non-blocking write waits, with the buffers it handed to the socket. */
    private final Map<Object, Object[]> tomcatPending = new ConcurrentHashMap<>();
    /** Jetty flushers whose session is in a wait. */
    private final Set<Object> jettyWaiting = ConcurrentHashMap.newKeySet();
    /** Tomcat's blocking writes waiting now, by endpoint: one at a time per endpoint (Tomcat's lock). */
    private final BlockingSends tomcatBlocking;
    /**
     * Whether the end of Tomcat's endpoint writes is advised: without it a wait that began would never end, so none
     * begins.
     */
    private final BooleanSupplier tomcatEndsSeen;
    /**
     * Jetty sends whose completion is a {@code Future} not done when the session's send returned, with the session's
     * flusher: a thread that then waits on that future (a {@code RemoteEndpoint.Basic} send) is a blocking send of
     * that session. Dropped when waited on, or by the timer once done.
     */
    private final Map<Object, Object> jettySent = new ConcurrentHashMap<>();
    /** Jetty's blocking sends running now, by the future their thread waits on. */
    private final BlockingSends jettyBlocking;
    private final Tracker spring;
    /** Spring decorators whose buffer holds messages. */
    private final Set<Object> springWaiting = ConcurrentHashMap.newKeySet();

    WebSocketAdapter(Monitor monitor, int tolerance, int walkMax, BooleanSupplier tomcatEndsSeen) {
        this.monitor = monitor;
        this.tomcatEndsSeen = tomcatEndsSeen;
        this.tolerance = tolerance;
        this.walkMax = Math.max(1, walkMax);
        this.tomcat = monitor.tracker(WebSocketIntegration.LAYER, new TomcatProbe());
        this.jetty = monitor.tracker(WebSocketIntegration.LAYER, new JettyProbe());
        this.spring = monitor.tracker(WebSocketIntegration.LAYER, new SpringProbe());
        this.tomcatBlocking = new BlockingSends(monitor, new BlockingSends.Side() {
            @Override
            public Tracker tracker() {
                return tomcat;
            }

            @Override
            public long pending(BlockingSends.Send s) {
                return remaining((Object[]) s.state); // the frame's unsent remainder
            }

            @Override
            public boolean failed(BlockingSends.Send s) {
                // a blocking write returns when the socket took every byte; bytes left mean it failed
                return remaining((Object[]) s.state) > 0;
            }
        }, MAX_PENDING);
        this.jettyBlocking = new BlockingSends(monitor, new BlockingSends.Side() {
            @Override
            public Tracker tracker() {
                return jetty;
            }

            @Override
            public long pending(BlockingSends.Send s) {
                // the connection's websocket share: the session queue and the frame being written, whose shrinking
                // is the drain progress of a lone blocked sender (its queue is empty meanwhile). Once a send has
                // failed, Jetty has already let go of its frame: what was left of it is the timer's last reading
                long now = jettyShare(s.transport);
                return now <= 0 && s.promoted && failed(s) ? s.lastLeft : now;
            }

            @Override
            public boolean failed(BlockingSends.Send s) {
                return Boolean.TRUE.equals(Members.invoke(s.state, "isFailed"));
            }
        }, MAX_PENDING);
    }

    // ---- Tomcat

    @Override
    public void tomcatSendRefused(Object endpoint, Object payload, Throwable thrown) {
        // only the state machine's refusal: another IllegalStateException (a closed session, say) is no send pending
        StackTraceElement[] trace = thrown.getStackTrace();
        if (trace.length == 0 || !STATE_CHECK_CLASS.equals(trace[0].getClassName())) {
            return;
        }
        long bytes = payload instanceof String ? ((String) payload).length()
                : payload instanceof ByteBuffer ? ((ByteBuffer) payload).remaining() : 0;
        TrackedConnection c = tomcat.track(endpoint, false, 0);
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, WebSocketIntegration.SEND_PENDING, bytes);
    }

    @Override
    public void tomcatWritePending(Object endpoint, Object[] buffers) {
        if (tomcatPending.size() >= MAX_PENDING && !tomcatPending.containsKey(endpoint)) {
            return;
        }
        TrackedConnection c = tomcat.track(endpoint, true);
        if (c == null) {
            return;
        }
        synchronized (this) {
            tomcatPending.put(endpoint, buffers);
            updateGate();
        }
        monitor.stop(c, remaining(buffers));
    }

    @Override
    public void tomcatWriteDone(Object endpoint) {
        Object[] buffers;
        synchronized (this) {
            buffers = tomcatPending.remove(endpoint);
            updateGate();
        }
        if (buffers != null) {
            TrackedConnection c = tomcat.get(endpoint);
            if (c != null) {
                monitor.go(c);
            }
        }
    }

    @Override
    public void tomcatSocketWaits(Object operation) {
        if (!tomcatEndsSeen.getAsBoolean() || !isBlockingMode(OPERATION_BLOCK.read(operation))) {
            return;
        }
        Object handler = OPERATION_HANDLER.read(operation);
        if (handler == null || !handler.getClass().getName().startsWith(TOMCAT_SERVER_INNER)) {
            return;
        }
        Object endpoint = ENCLOSING.read(handler);
        Object buffers = OPERATION_BUFFERS.read(operation);
        if (endpoint == null || !(buffers instanceof Object[])) {
            return;
        }
        BlockingSends.Send s = tomcatBlocking.running(endpoint);
        if (s != null && s.state == buffers) {
            return; // the same write, registered again after a partial write (on the poller's thread, then)
        }
        if (s != null) {
            // a write whose end was not seen: its wait is over, as a new write of the endpoint is running
            tomcatBlocking.ends(endpoint, s.startNanos());
        }
        if (tomcatBlocking.begins(endpoint, endpoint, buffers) != 0) {
            WebSocketCalls.tomcatBlocking = 1;
        }
    }

    private static boolean isBlockingMode(Object mode) {
        return mode instanceof Enum && "BLOCK".equals(((Enum<?>) mode).name());
    }

    @Override
    public void tomcatBlockingEnds(Object endpoint) {
        BlockingSends.Send s = tomcatBlocking.running(endpoint);
        if (s != null) {
            tomcatBlocking.ends(endpoint, s.startNanos());
        }
        if (tomcatBlocking.isEmpty()) {
            // a hint for the write's end advice; a wait begun meanwhile sets it again
            WebSocketCalls.tomcatBlocking = 0;
            if (!tomcatBlocking.isEmpty()) {
                WebSocketCalls.tomcatBlocking = 1;
            }
        }
    }

    /** The agent's timer: blocking sends that have gone on for a while become waits of their connection. */
    void tick() {
        tomcatBlocking.tick();
        sweepJettySent();
        jettyBlocking.tick();
    }

    /** Stops watching: blocking sends in progress are forgotten (the monitor ends their episodes). */
    void reset() {
        tomcatBlocking.reset();
        jettyBlocking.reset();
        jettySent.clear();
        WebSocketCalls.blockingSends = 0;
        WebSocketCalls.tomcatBlocking = 0;
    }

    private static long remaining(Object[] buffers) {
        long sum = 0;
        if (buffers != null) {
            for (Object b : buffers) {
                if (b instanceof ByteBuffer) {
                    sum += ((ByteBuffer) b).remaining();
                }
            }
        }
        return sum;
    }

    /** Tomcat's server endpoint: the bytes of its pending or blocking write, its socket's addresses. */
    private final class TomcatProbe implements TransportProbe {
        @Override
        public long pendingBytes(Object endpoint) {
            Object[] buffers = tomcatPending.get(endpoint);
            if (buffers == null) {
                BlockingSends.Send s = tomcatBlocking.running(endpoint);
                buffers = s == null ? null : (Object[]) s.state;
            }
            return remaining(buffers);
        }

        @Override
        public boolean isOpen(Object endpoint) {
            Object socket = Members.get(endpoint, "socketWrapper");
            return socket != null && Boolean.FALSE.equals(Members.invoke(socket, "isClosed"));
        }

        @Override
        public SocketAddress peer(Object endpoint) {
            return address(Members.get(endpoint, "socketWrapper"), "getRemoteAddr", "getRemotePort");
        }

        @Override
        public SocketAddress local(Object endpoint) {
            return address(Members.get(endpoint, "socketWrapper"), "getLocalAddr", "getLocalPort");
        }
    }

    private static SocketAddress address(Object socket, String host, String port) {
        if (socket == null) {
            return null;
        }
        Object h = Members.invoke(socket, host);
        Object p = Members.invoke(socket, port);
        if (!(h instanceof String) || !(p instanceof Integer)) {
            return null;
        }
        // Tomcat's address strings are numeric: no name look-up
        return new InetSocketAddress((String) h, (Integer) p);
    }

    // ---- Jetty

    @Override
    public void jettySendWhileQueued(Object flusher, Object entry) {
        if (!Members.isA(flusher.getClass(), JETTY_SESSION_FLUSHER)) {
            return; // an extension's flusher: its frames reach the session's queue, and are judged there
        }
        Object frame = Members.invoke(entry, "getFrame");
        Object op = frame == null ? null : Members.invoke(frame, "getOpCode");
        // a data frame that starts a message (TEXT 1, BINARY 2); continuations and control frames are not sends
        if (!(op instanceof Byte) || ((Byte) op != 1 && (Byte) op != 2)) {
            return;
        }
        TrackedConnection c = jetty.track(flusher, false, 0);
        if (c != null && !c.isWaiting()) {
            synchronized (this) {
                jettyWaiting.add(flusher);
                updateGate();
            }
            monitor.stop(c, Math.max(0, jettyBytes(flusher)));
        }
        Collection<?> entries = entries(flusher);
        if (entries == null || entries.size() <= tolerance) {
            return;
        }
        Object length = Members.invoke(frame, "getPayloadLength");
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, WebSocketIntegration.SEND_PENDING, length instanceof Integer ? (Integer) length : 0);
    }

    @Override
    public void jettyEntryDone(Object flusher) {
        if (!jettyWaiting.contains(flusher)) {
            return;
        }
        TrackedConnection c = jetty.get(flusher);
        Collection<?> entries = entries(flusher);
        if (c == null || entries == null || entries.isEmpty()) {
            synchronized (this) {
                jettyWaiting.remove(flusher);
                updateGate();
            }
            if (c != null) {
                monitor.go(c);
            }
        } else {
            monitor.progress(c);
        }
    }

    @Override
    public void jettySendPending(Object sender, Object future) {
        if (jettySent.size() >= MAX_PENDING) {
            return;
        }
        // the default method runs for every OutgoingFrames (extensions, flushers): only a session's sends count, and
        // those of ee10's Jakarta remote endpoint, which hands them to its core session itself
        Object session = Members.isA(sender.getClass(), JETTY_EE10_REMOTE) ? Members.get(sender, "coreSession") : sender;
        if (session == null || !Members.isA(session.getClass(), JETTY_SESSION)) {
            return;
        }
        Object flusher = Members.get(session, "flusher");
        if (flusher != null) {
            jettySent.put(future, flusher);
            WebSocketCalls.blockingSends = 1;
        }
    }

    @Override
    public long jettyBlockingBegins(Object future) {
        Object flusher = jettySent.remove(future);
        return flusher == null ? 0 : jettyBlocking.begins(future, flusher, future);
    }

    @Override
    public void jettyBlockingEnds(Object future, long token) {
        jettyBlocking.ends(future, token);
    }

    /** Forgets sends whose future completed without anyone waiting on it (asynchronous use of a future). */
    private void sweepJettySent() {
        if (jettySent.isEmpty()) {
            return;
        }
        jettySent.keySet().removeIf(f -> !Boolean.FALSE.equals(Members.invoke(f, "isDone")));
        if (jettySent.isEmpty()) {
            // a hint for the waiting advice; a send recorded meanwhile sets it again
            WebSocketCalls.blockingSends = 0;
            if (!jettySent.isEmpty()) {
                WebSocketCalls.blockingSends = 1;
            }
        }
    }

    private static Collection<?> entries(Object flusher) {
        Object e = Members.get(flusher, "_entries");
        return e instanceof Collection ? (Collection<?>) e : null;
    }

    /**
     * The payload bytes of the frames queued in {@code flusher}, read under Jetty's own lock (as its {@code dump()}
     * does) for at most {@link #walkMax} frames, the rest extrapolated from the count; -1 when unreadable.
     */
    long jettyBytes(Object flusher) {
        Collection<?> entries = entries(flusher);
        Object autoLock = Members.get(flusher, "_lock");
        Object lock = autoLock == null ? null : Members.get(autoLock, "_lock");
        if (entries == null || !(lock instanceof Lock)) {
            return -1;
        }
        long sum = 0;
        int walked = 0;
        int size;
        ((Lock) lock).lock();
        try {
            size = entries.size();
            Iterator<?> it = entries.iterator();
            while (walked < walkMax && it.hasNext()) {
                Object frame = Members.invoke(it.next(), "getFrame");
                Object length = frame == null ? null : Members.invoke(frame, "getPayloadLength");
                if (length instanceof Integer) {
                    sum += (Integer) length;
                }
                walked++;
            }
        } finally {
            ((Lock) lock).unlock();
        }
        if (walked > 0 && size > walked) {
            sum += (long) ((double) sum / walked * (size - walked));
        }
        return sum;
    }

    /**
     * The connection's websocket share of a Jetty session: its queue ({@link #jettyBytes}) and what its connection's
     * {@code FrameFlusher} holds ({@link #jettyWriting}); -1 when the queue is unreadable.
     */
    long jettyShare(Object flusher) {
        long queued = jettyBytes(flusher);
        return queued < 0 ? -1 : queued + jettyWriting(flusher);
    }

    /**
     * The payload bytes not yet written of the frames that the connection of {@code flusher}'s session holds in its
     * {@code FrameFlusher}: the frame (or gathered frames) being written, whose payload buffer the socket advances as
     * it takes the bytes, and the frames handed to it behind that one. They have left the session queue, so they are
     * not counted twice. Read under the {@code FrameFlusher}'s own lock, which Jetty holds only while it moves entries
     * (never while the socket write waits); 0 when unreadable.
     */
    long jettyWriting(Object flusher) {
        Object session = Members.get(flusher, "this$0");
        Object connection = session == null ? null : Members.get(session, "connection");
        Object frames = connection == null ? null : Members.get(connection, "flusher");
        Object autoLock = frames == null ? null : Members.get(frames, "_lock");
        Object lock = autoLock == null ? null : Members.get(autoLock, "_lock");
        Object current = frames == null ? null : Members.get(frames, "_currentEntries");
        Object queue = frames == null ? null : Members.get(frames, "_queue");
        if (!(lock instanceof Lock) || !(current instanceof Collection) || !(queue instanceof Collection)) {
            return 0;
        }
        long sum = 0;
        int walked = 0;
        ((Lock) lock).lock();
        try {
            for (Collection<?> entries : java.util.Arrays.asList((Collection<?>) current, (Collection<?>) queue)) {
                for (Iterator<?> it = entries.iterator(); walked < walkMax && it.hasNext(); walked++) {
                    Object frame = Members.invoke(it.next(), "getFrame");
                    Object length = frame == null ? null : Members.invoke(frame, "getPayloadLength");
                    if (length instanceof Integer) {
                        sum += (Integer) length;
                    }
                }
            }
        } finally {
            ((Lock) lock).unlock();
        }
        return sum;
    }

    /** Jetty's session queue: its bytes and its connection's, its addresses; stopped while it holds frames. */
    private final class JettyProbe implements TransportProbe {
        @Override
        public long pendingBytes(Object flusher) {
            return jettyShare(flusher);
        }

        @Override
        public boolean isOpen(Object flusher) {
            Object endPoint = Members.invoke(jettyConnection(flusher), "getEndPoint");
            return endPoint != null && Boolean.TRUE.equals(Members.invoke(endPoint, "isOpen"));
        }

        @Override
        public SocketAddress peer(Object flusher) {
            Object a = Members.invoke(jettyConnection(flusher), "getRemoteSocketAddress");
            return a instanceof SocketAddress ? (SocketAddress) a : null;
        }

        @Override
        public SocketAddress local(Object flusher) {
            Object a = Members.invoke(jettyConnection(flusher), "getLocalSocketAddress");
            return a instanceof SocketAddress ? (SocketAddress) a : null;
        }

        @Override
        public int stopState(Object flusher) {
            if (jettyBlocking.blocks(flusher)) {
                return 1; // a blocking send waits for its frame, which has left the queue for the connection
            }
            Collection<?> entries = entries(flusher);
            return entries == null ? -1 : entries.isEmpty() ? 0 : 1;
        }

        private Object jettyConnection(Object flusher) {
            Object session = Members.get(flusher, "this$0");
            return session == null ? null : Members.get(session, "connection");
        }
    }

    // ---- Spring

    @Override
    public void springBuffering(Object decorator) {
        long buffered = springBytes(decorator);
        TrackedConnection c = spring.track(decorator, true, Math.max(0, buffered));
        if (c == null || buffered <= 0) {
            return;
        }
        if (!c.isWaiting()) {
            synchronized (this) {
                springWaiting.add(decorator);
                updateGate();
            }
        }
        monitor.stop(c, buffered);
    }

    @Override
    public void springFlushed(Object decorator) {
        if (!springWaiting.contains(decorator) || springBytes(decorator) > 0) {
            return;
        }
        synchronized (this) {
            springWaiting.remove(decorator);
            updateGate();
        }
        TrackedConnection c = spring.get(decorator);
        if (c != null) {
            monitor.go(c);
        }
    }

    @Override
    public void springLimitExceeded(Object decorator, String reason) {
        long buffered = Math.max(0, springBytes(decorator));
        TrackedConnection c = spring.track(decorator, false, buffered);
        synchronized (this) {
            springWaiting.remove(decorator);
            updateGate();
        }
        if (c != null) {
            // Spring throws SessionLimitExceededException and closes the session (status 4500): the episode ends
            // here, with Spring's reason, and the buffer's bytes (Spring never clears it) stay on the span only
            monitor.closed(c, buffered, "spring websocket session limit exceeded: " + reason);
        }
    }

    /** The decorator's own count of buffered bytes, or -1 when unreadable. */
    private static long springBytes(Object decorator) {
        Object size = Members.invoke(decorator, "getBufferSize");
        return size instanceof Integer ? (Integer) size : -1;
    }

    /** Spring's decorator: its buffer's bytes, its session's addresses (the handshake's, so it joins the container's entry). */
    private final class SpringProbe implements TransportProbe {
        @Override
        public long pendingBytes(Object decorator) {
            return springBytes(decorator);
        }

        @Override
        public boolean isOpen(Object decorator) {
            return Boolean.TRUE.equals(Members.invoke(decorator, "isOpen"));
        }

        @Override
        public SocketAddress peer(Object decorator) {
            Object a = Members.invoke(decorator, "getRemoteAddress");
            return a instanceof SocketAddress ? (SocketAddress) a : null;
        }

        @Override
        public SocketAddress local(Object decorator) {
            Object a = Members.invoke(decorator, "getLocalAddress");
            return a instanceof SocketAddress ? (SocketAddress) a : null;
        }

        @Override
        public int stopState(Object decorator) {
            long b = springBytes(decorator);
            return b < 0 ? -1 : b > 0 ? 1 : 0;
        }
    }

    private void updateGate() {
        WebSocketCalls.waiting = tomcatPending.size() + jettyWaiting.size() + springWaiting.size();
    }
}

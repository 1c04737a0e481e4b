package io.highwater.websocket;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * The container classes the agent changes, each checked against the shape its advice and {@link WebSocketAdapter}
 * use before it is touched: a version of another shape is skipped with one line, and that part is off.
 */
final class WebSocketInstrumentation {

    static final String TOMCAT_BASE = "org.apache.tomcat.websocket.WsRemoteEndpointImplBase";
    static final String TOMCAT_SERVER = "org.apache.tomcat.websocket.server.WsRemoteEndpointImplServer";
    /** Where a blocking write of Tomcat's NIO connector registers with the poller when the socket is full. */
    static final String TOMCAT_NIO_SOCKET = "org.apache.tomcat.util.net.NioEndpoint$NioSocketWrapper";
    private static final String TOMCAT_SOCKET_BASE = "org.apache.tomcat.util.net.SocketWrapperBase";
    static final String JETTY_FLUSHER = "org.eclipse.jetty.websocket.core.util.WebSocketFlusher";
    static final String JETTY_SESSION = "org.eclipse.jetty.websocket.core.WebSocketCoreSession";
    /** Declares the default {@code sendFrame(Frame, Callback, boolean)} a session's sends go through. */
    static final String JETTY_OUTGOING = "org.eclipse.jetty.websocket.core.OutgoingFrames";
    static final String JETTY_FUTURE = "org.eclipse.jetty.util.FutureCallback";
    /**
     * ee10's Jakarta remote endpoint (the base of its {@code RemoteEndpoint.Basic} and {@code .Async}): it overrides
     * {@code sendFrame(Frame, Callback, boolean)} and hands its frames to the session's {@code sendFrame(OutgoingEntry)}
     * itself, so the session's inherited default, where core-API sends are seen, never runs for Jakarta's sends.
     */
    static final String JETTY_EE10_REMOTE = "org.eclipse.jetty.ee10.websocket.jakarta.common.JakartaWebSocketRemoteEndpoint";
    static final String SPRING_DECORATOR = "org.springframework.web.socket.handler.ConcurrentWebSocketSessionDecorator";
    private static final String ADVICE = "io.highwater.websocket.advice.";

    /** Built on first use: Byte Buddy's matchers must wait until a container class loads. */
    private static final class Shapes {
        /** Tomcat's send entries that take the message first: each starts with its state machine's check. */
        static final ElementMatcher.Junction<MethodDescription> SENDS = namedOneOf("sendString",
                "sendPartialString", "sendStringByCompletion").and(takesArgument(0, String.class))
                .or(namedOneOf("sendBytes", "sendPartialBytes", "sendBytesByCompletion")
                        .and(takesArgument(0, ByteBuffer.class)))
                .and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> STREAMS = namedOneOf("getSendStream",
                "getSendWriter").and(takesArguments(0)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> DO_WRITE = named("doWrite").and(takesArguments(4))
                .and(takesArgument(0, named("jakarta.websocket.SendHandler"))).and(takesArgument(1, boolean.class))
                .and(takesArgument(2, long.class)).and(takesArgument(3, ByteBuffer[].class));
        static final ElementMatcher.Junction<MethodDescription> REGISTER_WRITE = named("registerWriteInterest")
                .and(takesArguments(0));
        static final ElementMatcher.Junction<MethodDescription> CLEAR_HANDLER = named("clearHandler")
                .and(takesArguments(2)).and(takesArgument(0, Throwable.class)).and(takesArgument(1, boolean.class));
        static final ElementMatcher.Junction<MethodDescription> SEND_FRAME = named("sendFrame").and(takesArguments(1))
                .and(takesArgument(0, named("org.eclipse.jetty.websocket.core.OutgoingEntry")));
        static final ElementMatcher.Junction<MethodDescription> ENTRY_DONE = named("notifyCallbackSuccess")
                .and(takesArguments(1))
                .and(takesArgument(0, named("org.eclipse.jetty.websocket.core.OutgoingEntry")));
        static final ElementMatcher.Junction<MethodDescription> SESSION_SEND = named("sendFrame")
                .and(takesArguments(3)).and(takesArgument(0, named("org.eclipse.jetty.websocket.core.Frame")))
                .and(takesArgument(1, named("org.eclipse.jetty.util.Callback"))).and(takesArgument(2, boolean.class))
                .and(not(isAbstract()));
        /** {@code get()} and {@code get(long, TimeUnit)} returning {@code Void}: not their bridges to Object. */
        static final ElementMatcher.Junction<MethodDescription> FUTURE_GET = named("get")
                .and(net.bytebuddy.matcher.ElementMatchers.returns(named("java.lang.Void")))
                .and(takesArguments(0).or(takesArguments(2).and(takesArgument(0, long.class))
                        .and(takesArgument(1, named("java.util.concurrent.TimeUnit")))))
                .and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> IS_DONE = named("isDone").and(takesArguments(0))
                .and(net.bytebuddy.matcher.ElementMatchers.returns(boolean.class));
        static final ElementMatcher.Junction<MethodDescription> IS_FAILED = named("isFailed").and(takesArguments(0))
                .and(net.bytebuddy.matcher.ElementMatchers.returns(boolean.class));
        static final ElementMatcher.Junction<MethodDescription> CHECK_LIMITS = named("checkSessionLimits")
                .and(takesArguments(0));
        static final ElementMatcher.Junction<MethodDescription> TRY_FLUSH = named("tryFlushMessageBuffer")
                .and(takesArguments(0)).and(net.bytebuddy.matcher.ElementMatchers.returns(boolean.class));
        static final ElementMatcher.Junction<MethodDescription> LIMIT_EXCEEDED = named("limitExceeded")
                .and(takesArguments(1)).and(takesArgument(0, String.class));
        static final ElementMatcher.Junction<MethodDescription> GET_BUFFER_SIZE = named("getBufferSize")
                .and(takesArguments(0)).and(net.bytebuddy.matcher.ElementMatchers.returns(int.class));
    }

    private WebSocketInstrumentation() {
    }

    /** Tomcat: the send entries whose state check refuses a send while another is pending. */
    static AdviceTransformer.Target tomcatSends(InstrumentationReport report) {
        return new Checked(TOMCAT_BASE, "tomcat websocket", "refused sends", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.SENDS, ADVICE + "TomcatSendRefusedAdvice");
                m.put(Shapes.STREAMS, ADVICE + "TomcatStreamRefusedAdvice");
                return m;
            }

            @Override
            public Set<String> oncePerCall() {
                // a send that delegates to another (the partial and whole variants differ between versions) is
                // judged once, by the outermost
                return new HashSet<>(Arrays.asList(ADVICE + "TomcatSendRefusedAdvice",
                        ADVICE + "TomcatStreamRefusedAdvice"));
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireField(type, "stateMachine", missing);
                if (type.getDeclaredMethods().filter(Shapes.SENDS).size() != 6) {
                    missing.add("the six send methods");
                }
                if (type.getDeclaredMethods().filter(Shapes.STREAMS).size() != 2) {
                    missing.add("getSendStream(), getSendWriter()");
                }
                // the adapter counts only refusals thrown by this class (the exception's throwing frame)
                requireClassFields(loader, TOMCAT_BASE + "$StateMachine", new String[0], missing);
                return missing;
            }
        };
    }

    /** Tomcat: the server endpoint's writes, for the waits of non-blocking sends and the time blocking sends wait. */
    static Checked tomcatWrites(InstrumentationReport report) {
        return new Checked(TOMCAT_SERVER, "tomcat websocket", "pending async sends and blocking sends", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.DO_WRITE, ADVICE + "TomcatDoWriteAdvice");
                m.put(Shapes.CLEAR_HANDLER, ADVICE + "TomcatClearHandlerAdvice");
                return m;
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireField(type, "handler", missing);
                requireField(type, "socketWrapper", missing);
                requireMethod(type, Shapes.DO_WRITE, "doWrite(SendHandler, boolean, long, ByteBuffer...)", missing);
                requireMethod(type, Shapes.CLEAR_HANDLER, "clearHandler(Throwable, boolean)", missing);
                // the write's completion handler, which names the endpoint whose blocking send waits
                requireClassFields(loader, TOMCAT_SERVER + "$1", new String[] {"this$0"}, missing);
                return missing;
            }
        };
    }

    /**
     * Tomcat: the NIO socket's registration for writing, reached only when a write found the socket full: where a
     * blocking send's wait begins. The servlet layer advises the same method for its own blocking writes.
     */
    static AdviceTransformer.Target tomcatSocketWaits(InstrumentationReport report) {
        return new Checked(TOMCAT_NIO_SOCKET, "tomcat", "websocket blocking sends' waits", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                return Map.of(Shapes.REGISTER_WRITE, ADVICE + "TomcatSocketWaitAdvice");
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireMethod(type, Shapes.REGISTER_WRITE, "registerWriteInterest()", missing);
                requireClassFields(loader, TOMCAT_SOCKET_BASE, new String[] {"writeOperation"}, missing);
                requireClassFields(loader, TOMCAT_SOCKET_BASE + "$OperationState",
                        new String[] {"block", "handler", "buffers"}, missing);
                return missing;
            }
        };
    }

    /** Jetty: the per-session queue of outgoing frames. */
    static AdviceTransformer.Target jettyFlusher(InstrumentationReport report) {
        return new Checked(JETTY_FLUSHER, "jetty websocket", "session queues", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.SEND_FRAME, ADVICE + "JettySendFrameAdvice");
                m.put(Shapes.ENTRY_DONE, ADVICE + "JettyEntryDoneAdvice");
                return m;
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireField(type, "_entries", missing);
                requireField(type, "_lock", missing);
                requireMethod(type, Shapes.SEND_FRAME, "sendFrame(OutgoingEntry)", missing);
                requireMethod(type, Shapes.ENTRY_DONE, "notifyCallbackSuccess(OutgoingEntry)", missing);
                // what WebSocketAdapter reads: the session behind its flusher, the connection behind the session
                requireClassFields(loader, "org.eclipse.jetty.websocket.core.WebSocketCoreSession$Flusher",
                        new String[] {"this$0"}, missing);
                requireClassFields(loader, "org.eclipse.jetty.websocket.core.WebSocketCoreSession",
                        new String[] {"connection"}, missing);
                // and the frames the connection is writing: its FrameFlusher's entries, under its lock
                requireClassFields(loader, "org.eclipse.jetty.websocket.core.WebSocketConnection",
                        new String[] {"flusher"}, missing);
                requireClassFields(loader, "org.eclipse.jetty.websocket.core.internal.FrameFlusher",
                        new String[] {"_lock", "_queue", "_currentEntries"}, missing);
                return missing;
            }
        };
    }

    /**
     * Jetty: a session's sends (the default {@code OutgoingFrames.sendFrame(Frame, Callback, boolean)}, which
     * {@code WebSocketCoreSession} inherits), for those whose completion future is still pending when the send
     * returns (a {@code RemoteEndpoint.Basic} send about to wait on it).
     */
    static AdviceTransformer.Target jettySessionSends(InstrumentationReport report) {
        return sessionSends(JETTY_OUTGOING, "jetty websocket", null, report);
    }

    /**
     * Jetty ee10 Jakarta WebSocket: the remote endpoint's sends ({@code sendFrame(Frame, Callback, boolean)}, which its
     * {@code RemoteEndpoint.Basic} sends pass a {@code FutureCallback} and then wait on), seen as the session's
     * sends of {@link #jettySessionSends} are: the same advice, the adapter finds the core session behind the endpoint
     * (its field {@code coreSession}).
     */
    static AdviceTransformer.Target jettyJakartaSends(InstrumentationReport report) {
        return sessionSends(JETTY_EE10_REMOTE, "jetty ee10 jakarta websocket", "coreSession", report);
    }

    /**
     * The session-send advice on {@code className}, which the adapter reads through its own field {@code session}
     * (null: it is the session) to the session's flusher: the key of its queue's share, which its waits join.
     */
    private static AdviceTransformer.Target sessionSends(String className, String label, String session,
                                                         InstrumentationReport report) {
        return new Checked(className, label, "blocking sends", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.SESSION_SEND, ADVICE + "JettySessionSendAdvice");
                return m;
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireMethod(type, Shapes.SESSION_SEND, "sendFrame(Frame, Callback, boolean)", missing);
                if (session != null) {
                    requireField(type, session, missing);
                }
                requireClassFields(loader, JETTY_SESSION, new String[] {"flusher"}, missing);
                requireClassFields(loader, JETTY_SESSION + "$Flusher", new String[] {"this$0"}, missing);
                return missing;
            }
        };
    }

    /** Jetty: the waits on a {@code FutureCallback}, for those of a remembered session send. */
    static AdviceTransformer.Target jettyFutureWaits(InstrumentationReport report) {
        return new Checked(JETTY_FUTURE, "jetty websocket", "blocking send waits", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.FUTURE_GET, ADVICE + "JettyFutureWaitAdvice");
                return m;
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                if (type.getDeclaredMethods().filter(Shapes.FUTURE_GET).size() != 2) {
                    missing.add("Void get(), Void get(long, TimeUnit)");
                }
                // what the adapter asks: whether a remembered send completed, whether a wait ended in failure
                requireMethod(type, Shapes.IS_DONE, "boolean isDone()", missing);
                requireMethod(type, Shapes.IS_FAILED, "boolean isFailed()", missing);
                return missing;
            }
        };
    }

    /** Spring: {@code ConcurrentWebSocketSessionDecorator}'s buffer and its limits. */
    static AdviceTransformer.Target springDecorator(InstrumentationReport report) {
        return new Checked(SPRING_DECORATOR, "spring websocket", "session decorators", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.CHECK_LIMITS, ADVICE + "SpringBufferingAdvice");
                m.put(Shapes.TRY_FLUSH, ADVICE + "SpringFlushedAdvice");
                m.put(Shapes.LIMIT_EXCEEDED, ADVICE + "SpringLimitAdvice");
                return m;
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireMethod(type, Shapes.CHECK_LIMITS, "checkSessionLimits()", missing);
                requireMethod(type, Shapes.TRY_FLUSH, "boolean tryFlushMessageBuffer()", missing);
                requireMethod(type, Shapes.LIMIT_EXCEEDED, "limitExceeded(String)", missing);
                requireMethod(type, Shapes.GET_BUFFER_SIZE, "int getBufferSize()", missing);
                return missing;
            }
        };
    }

    abstract static class Checked implements AdviceTransformer.Target {
        private final String className;
        private final String library;
        private final String part;
        private final InstrumentationReport report;
        /** Whether a class of this target passed its check (and was changed). */
        private volatile boolean applied;

        Checked(String className, String library, String part, InstrumentationReport report) {
            this.className = className;
            this.library = library;
            this.part = part;
            this.report = report;
        }

        abstract List<String> missing(TypeDescription type, ClassLoader loader);

        @Override
        public String internalName() {
            return className.replace('.', '/');
        }

        @Override
        public String check(TypeDescription type, ClassLoader loader) {
            List<String> missing = missing(type, loader);
            String skip = report.verdict(library, loader, type.getSimpleName(), missing,
                    "; its " + part + " are not watched", part);
            if (skip == null) {
                applied = true;
            }
            return skip;
        }

        boolean applied() {
            return applied;
        }
    }

    private static void requireField(TypeDescription type, String name, List<String> missing) {
        for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
            if (f.getName().equals(name)) {
                return;
            }
        }
        missing.add("field " + name);
    }

    private static void requireMethod(TypeDescription type, ElementMatcher<? super MethodDescription> m, String label,
                                      List<String> missing) {
        if (type.getDeclaredMethods().filter(m).isEmpty()) {
            missing.add(label);
        }
    }

    /** Fields another class must declare, read from its class file without loading it. */
    private static void requireClassFields(ClassLoader loader, String className, String[] fields, List<String> missing) {
        String simple = className.substring(className.lastIndexOf('.') + 1);
        TypeDescription t;
        try {
            TypePool pool = TypePool.Default.of(loader == null ? ClassFileLocator.ForClassLoader.ofBootLoader()
                    : ClassFileLocator.ForClassLoader.of(loader));
            TypePool.Resolution r = pool.describe(className);
            if (!r.isResolved()) {
                missing.add(simple);
                return;
            }
            t = r.resolve();
        } catch (RuntimeException e) {
            missing.add(simple);
            return;
        }
        for (String f : fields) {
            if (t.getDeclaredFields().filter(named(f)).isEmpty()) {
                missing.add(simple + "." + f);
            }
        }
    }
}

package io.highwater.telemetry;

import io.highwater.core.TraceLink;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Finds the application's current span, by reflection, in the two places it can be: the OpenTelemetry Java
 * agent's API (relocated, on the bootstrap class path, where every instrumented library's context lives) and an
 * OpenTelemetry API the application carries itself (found through the thread's context class loader). The agent's
 * own relocated SDK is never consulted: it knows nothing of the application's requests.
 */
public final class CurrentSpanProbe implements TraceLink.Probe {

    // Written with '|' and turned into class names at run time: the build relocates every string constant that
    // looks like an io.opentelemetry class name (dotted or slashed) into the agent's shaded package, and these
    // must name the application's copies.
    static final String JAVAAGENT_SPAN = binaryName("io|opentelemetry|javaagent|shaded|io|opentelemetry|api|trace|Span");
    static final String API_SPAN = binaryName("io|opentelemetry|api|trace|Span");

    /** Method handles for one copy of the OpenTelemetry API. */
    private static final class Api {
        final MethodHandle current;
        final MethodHandle spanContext;
        final MethodHandle isValid;
        final MethodHandle traceId;
        final MethodHandle spanId;
        final MethodHandle isSampled;

        Api(Class<?> span) throws ReflectiveOperationException {
            MethodHandles.Lookup l = MethodHandles.publicLookup();
            // the SpanContext beside this Span, whichever copy of the API it is
            Class<?> context = Class.forName(span.getName() + "Context", false, span.getClassLoader());
            current = l.findStatic(span, "current", MethodType.methodType(span));
            spanContext = l.findVirtual(span, "getSpanContext", MethodType.methodType(context));
            isValid = l.findVirtual(context, "isValid", MethodType.methodType(boolean.class));
            traceId = l.findVirtual(context, "getTraceId", MethodType.methodType(String.class));
            spanId = l.findVirtual(context, "getSpanId", MethodType.methodType(String.class));
            isSampled = l.findVirtual(context, "isSampled", MethodType.methodType(boolean.class));
        }

        TraceLink read() throws Throwable {
            Object sc = spanContext.invoke(current.invoke());
            if (!(boolean) isValid.invoke(sc)) {
                return null;
            }
            return new TraceLink((String) traceId.invoke(sc), (String) spanId.invoke(sc), (boolean) isSampled.invoke(sc));
        }
    }

    private static String binaryName(String internal) {
        return internal.replace('|', '.');
    }

    private final ClassValue<Api> apis = new ClassValue<Api>() {
        @Override
        protected Api computeValue(Class<?> type) {
            try {
                return new Api(type);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                return null;
            }
        }
    };
    /** The OpenTelemetry Java agent's API, looked up at the first use: its premain may run after this agent's. */
    private volatile Api javaagent;
    private volatile boolean javaagentLooked;
    /** Per context class loader: its API, or {@link #ABSENT}; weakly keyed, so application loaders can go. */
    private final Map<ClassLoader, Object> byLoader = new WeakHashMap<>();
    private static final Object ABSENT = new Object();

    private Api javaagent() {
        if (!javaagentLooked) {
            synchronized (this) {
                if (!javaagentLooked) {
                    try {
                        javaagent = apis.get(Class.forName(JAVAAGENT_SPAN, false, null));
                    } catch (ClassNotFoundException | LinkageError e) {
                        // no OpenTelemetry Java agent in this JVM
                    }
                    javaagentLooked = true;
                }
            }
        }
        return javaagent;
    }

    /** Looks a loader up once: a missing API costs a ClassNotFoundException, far too much to pay per episode. */
    private Api appApi(ClassLoader loader) {
        synchronized (byLoader) {
            Object known = byLoader.get(loader);
            if (known == null) {
                try {
                    Api api = apis.get(Class.forName(API_SPAN, false, loader));
                    known = api == null ? ABSENT : api;
                } catch (ClassNotFoundException | LinkageError e) {
                    known = ABSENT;
                }
                byLoader.put(loader, known);
            }
            return known == ABSENT ? null : (Api) known;
        }
    }

    @Override
    public TraceLink current() {
        try {
            Api agent = javaagent();
            if (agent != null) {
                TraceLink l = agent.read();
                if (l != null) {
                    return l;
                }
            }
            ClassLoader tccl = Thread.currentThread().getContextClassLoader();
            if (tccl != null) {
                Api app = appApi(tccl);
                if (app != null) {
                    return app.read();
                }
            }
        } catch (Throwable t) {
            // no API there, or it failed: no link
        }
        return null;
    }
}

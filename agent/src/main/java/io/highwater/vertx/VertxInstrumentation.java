package io.highwater.vertx;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * The Vert.x classes the agent changes, each checked against the shape its advice and {@link VertxAccess} use before
 * it is touched (a version of another shape is skipped with one line, and that part of the integration is off):
 * Vert.x 5's {@code OutboundMessageQueue} and Vert.x 4.5's {@code ConnectionBase}. The lines are told apart by a
 * landmark, not a version string: 4.5 has no {@code OutboundMessageQueue}.
 */
final class VertxInstrumentation {

    static final String QUEUE = "io.vertx.core.internal.concurrent.OutboundMessageQueue";
    static final String CONNECTION = "io.vertx.core.net.impl.ConnectionBase";
    private static final String ADVICE = "io.highwater.vertx.advice.";

    /** Built on first use: Byte Buddy's matchers must wait until a Vert.x class loads. */
    private static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> WRITE = named("write").and(takesArguments(1))
                .and(takesArgument(0, Object.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> DRAINED = named("handleDrained")
                .and(takesArguments(1)).and(takesArgument(0, int.class));
        static final ElementMatcher.Junction<MethodDescription> CLOSE = named("close").and(takesArguments(0));
        static final ElementMatcher.Junction<MethodDescription> WRITE_TO_CHANNEL = named("writeToChannel")
                .and(takesArguments(3)).and(takesArgument(0, Object.class)).and(takesArgument(1, boolean.class))
                .and(takesArgument(2, named("io.netty.channel.ChannelPromise")));
    }

    private VertxInstrumentation() {
    }

    /** Vert.x 5: the outbound queue of connections and HTTP/2 streams. */
    static AdviceTransformer.Target queueTarget(InstrumentationReport report) {
        return new VertxTarget(QUEUE, "outbound queues", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.WRITE, ADVICE + "QueueWriteAdvice");
                m.put(Shapes.DRAINED, ADVICE + "QueueDrainedAdvice");
                m.put(Shapes.CLOSE, ADVICE + "QueueCloseAdvice");
                return m;
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireField(type, "numberOfUnwritableSignals", "java.util.concurrent.atomic.AtomicInteger", missing);
                requireField(type, "mqp", "io.vertx.core.streams.impl.MessagePassingQueue$MpSc", missing);
                requireMethod(type, Shapes.WRITE.and(net.bytebuddy.matcher.ElementMatchers.returns(boolean.class)),
                        "boolean write(Object)", missing);
                requireMethod(type, Shapes.DRAINED, "handleDrained(int)", missing);
                requireMethod(type, Shapes.CLOSE, "close()", missing);
                // what VertxAccess reads: the message passing queue's count, marks, queue and element set aside
                requireClassFields(loader, "io.vertx.core.streams.impl.MessagePassingQueue",
                        new String[] {"queue", "overflow", "highWaterMark"}, missing);
                requireClassFields(loader, "io.vertx.core.streams.impl.MessagePassingQueue$MpSc",
                        new String[] {"wip"}, missing);
                requireClassFields(loader, "io.vertx.core.net.impl.VertxConnection$InternalMessageChannel",
                        new String[] {"this$0"}, missing);
                return missing;
            }
        };
    }

    /** Vert.x 4.5: the connection's write funnel. Skipped on Vert.x 5, whose queue is judged instead. */
    static AdviceTransformer.Target connectionTarget(InstrumentationReport report) {
        return new VertxTarget(CONNECTION, "connection writes", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.WRITE_TO_CHANNEL, ADVICE + "ConnectionWriteAdvice");
                return m;
            }

            @Override
            String notThisLine(ClassLoader loader) {
                return resource(loader, QUEUE.replace('.', '/') + ".class")
                        ? "vert.x 5 (its outbound queues are instrumented instead)" : null;
            }

            @Override
            List<String> missing(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                requireField(type, "chctx", "io.netty.channel.ChannelHandlerContext", missing);
                requireMethod(type, Shapes.WRITE_TO_CHANNEL, "writeToChannel(Object, boolean, ChannelPromise)", missing);
                return missing;
            }
        };
    }

    private abstract static class VertxTarget implements AdviceTransformer.Target {
        private final String className;
        private final String part;
        private final InstrumentationReport report;

        VertxTarget(String className, String part, InstrumentationReport report) {
            this.className = className;
            this.part = part;
            this.report = report;
        }

        abstract List<String> missing(TypeDescription type, ClassLoader loader);

        /** Why this class is not for this target in {@code loader}'s line of Vert.x (no log line), or null. */
        String notThisLine(ClassLoader loader) {
            return null;
        }

        @Override
        public String internalName() {
            return className.replace('.', '/');
        }

        @Override
        public String check(TypeDescription type, ClassLoader loader) {
            String other = notThisLine(loader);
            if (other != null) {
                return other;
            }
            String label = "vert.x " + version(loader);
            List<String> missing = missing(type, loader);
            return report.verdict(label, loader, type.getSimpleName(), missing,
                    "; vert.x " + part + " are not watched", part);
        }
    }

    /** Vert.x's version as its jar says ({@code META-INF/vertx/vertx-version.txt}). */
    static String version(ClassLoader loader) {
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream("META-INF/vertx/vertx-version.txt")
                : loader.getResourceAsStream("META-INF/vertx/vertx-version.txt")) {
            if (in != null) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            }
        } catch (Exception e) {
            // unknown
        }
        return "(version unknown)";
    }

    private static boolean resource(ClassLoader loader, String name) {
        return (loader == null ? ClassLoader.getSystemResource(name) : loader.getResource(name)) != null;
    }

    private static void requireField(TypeDescription type, String name, String typeName, List<String> missing) {
        for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
            if (f.getName().equals(name) && f.getType().asErasure().getName().equals(typeName)) {
                return;
            }
        }
        missing.add("field " + typeName.substring(typeName.lastIndexOf('.') + 1) + " " + name);
    }

    private static void requireMethod(TypeDescription type, ElementMatcher<? super MethodDescription> m, String label,
                                      List<String> missing) {
        if (type.getDeclaredMethods().filter(m).isEmpty()) {
            missing.add(label);
        }
    }

    /**
     * Fields another class must declare, read from its class file without loading it (this runs inside the
     * transformation of a class of the same library).
     */
    private static void requireClassFields(ClassLoader loader, String className, String[] fields, List<String> missing) {
        TypeDescription t;
        try {
            net.bytebuddy.pool.TypePool pool = net.bytebuddy.pool.TypePool.Default.of(loader == null
                    ? net.bytebuddy.dynamic.ClassFileLocator.ForClassLoader.ofBootLoader()
                    : net.bytebuddy.dynamic.ClassFileLocator.ForClassLoader.of(loader));
            net.bytebuddy.pool.TypePool.Resolution r = pool.describe(className);
            if (!r.isResolved()) {
                missing.add(className.substring(className.lastIndexOf('.') + 1));
                return;
            }
            t = r.resolve();
        } catch (RuntimeException e) {
            missing.add(className.substring(className.lastIndexOf('.') + 1));
            return;
        }
        for (String f : fields) {
            if (t.getDeclaredFields().filter(named(f)).isEmpty()) {
                missing.add(className.substring(className.lastIndexOf('.') + 1) + "." + f);
            }
        }
    }
}

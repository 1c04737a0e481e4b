package io.highwater.netty;

import io.highwater.agent.AdviceTransformer;
import io.highwater.agent.InstrumentationReport;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Instruments {@code io.netty.channel.ChannelOutboundBuffer}, which Netty 4.1 and 4.2 share for every transport
 * with an outbound buffer (NIO, epoll, kqueue, io_uring). Only methods and fields that have the expected shape
 * are touched; a Netty whose buffer differs is skipped with one log line.
 */
public final class NettyInstrumentation {

    static final String BUFFER = "io.netty.channel.ChannelOutboundBuffer";
    static final String CONTEXT = "io.netty.channel.AbstractChannelHandlerContext";
    private static final String CHANNEL = "io.netty.channel.Channel";
    private static final String PROMISE = "io.netty.channel.ChannelPromise";
    private static final String ADVICE = "io.highwater.netty.advice.";
    private static final String PIPELINE_WRITE = ADVICE + "PipelineWriteAdvice";

    /**
     * The method shapes, built on first use: Byte Buddy's matchers load a few hundred classes, which must wait
     * until a ChannelOutboundBuffer actually loads, not slow down the host's start-up.
     */
    private static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> WRITE_MESSAGE = named("write")
                .and(takesArguments(1)).and(takesArgument(0, Object.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITE = named("write")
                .and(takesArguments(2)).and(takesArgument(0, Object.class)).and(takesArgument(1, named(PROMISE)))
                .and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITE_AND_FLUSH = named("writeAndFlush")
                .and(takesArguments(2)).and(takesArgument(0, Object.class)).and(takesArgument(1, named(PROMISE)))
                .and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITABILITY = named("fireChannelWritabilityChanged")
                .and(takesArguments(1)).and(takesArgument(0, boolean.class));
        static final ElementMatcher.Junction<MethodDescription> DRAIN = named("removeBytes")
                .and(takesArguments(1)).and(takesArgument(0, long.class));
        static final ElementMatcher.Junction<MethodDescription> FAIL = named("failFlushed")
                .and(takesArguments(2)).and(takesArgument(0, Throwable.class)).and(takesArgument(1, boolean.class));
        static final ElementMatcher.Junction<MethodDescription> CLOSE = named("close")
                .and(takesArguments(2)).and(takesArgument(0, Throwable.class)).and(takesArgument(1, boolean.class));
    }

    private NettyInstrumentation() {
    }

    /** The transformation target for {@code ChannelOutboundBuffer}. */
    public static AdviceTransformer.Target target(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return BUFFER.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.WRITABILITY, ADVICE + "WritabilityAdvice");
                m.put(Shapes.DRAIN, ADVICE + "DrainAdvice");
                m.put(Shapes.FAIL, ADVICE + "FailAdvice");
                m.put(Shapes.CLOSE, ADVICE + "CloseAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String version = nettyVersion(loader);
                List<String> missing = missingShape(type);
                if (!missing.isEmpty()) {
                    String why = "netty " + version + ": ChannelOutboundBuffer lacks " + String.join(", ", missing);
                    report.skipped(why);
                    return why;
                }
                try {
                    Class.forName("io.highwater.bootstrap.Bridge", false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    String why = "netty " + version + " in " + loader
                            + ": its class loader does not delegate to the bootstrap class path";
                    report.skipped(why);
                    return why;
                }
                report.instrumented("netty " + version + " (ChannelOutboundBuffer)");
                return null;
            }
        };
    }

    /**
     * The transformation target for {@code AbstractChannelHandlerContext}: where writes enter a pipeline, and where
     * they are judged. Without it, pending bytes and waits are still seen, ignored writes are not.
     */
    public static AdviceTransformer.Target pipelineTarget(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return CONTEXT.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.WRITE_MESSAGE.or(Shapes.WRITE).or(Shapes.WRITE_AND_FLUSH), PIPELINE_WRITE);
                return m;
            }

            @Override
            public Set<String> oncePerCall() {
                // 4.1's write(Object) calls write(Object, ChannelPromise); 4.2's goes straight to the funnel
                return Collections.singleton(PIPELINE_WRITE);
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String version = nettyVersion(loader);
                List<String> missing = new ArrayList<>();
                requireMethod(type, Shapes.WRITE, "write(Object, ChannelPromise)", missing);
                requireMethod(type, Shapes.WRITE_AND_FLUSH, "writeAndFlush(Object, ChannelPromise)", missing);
                if (!missing.isEmpty()) {
                    String why = "netty " + version + ": AbstractChannelHandlerContext lacks " + String.join(", ", missing)
                            + "; ignored writes are not judged";
                    report.skipped(why);
                    return why;
                }
                try {
                    Class.forName("io.highwater.bootstrap.Bridge", false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    String why = "netty " + version + " in " + loader
                            + ": its class loader does not delegate to the bootstrap class path";
                    report.skipped(why);
                    return why;
                }
                report.instrumented("netty " + version + " (pipeline writes)");
                return null;
            }
        };
    }

    static List<String> missingShape(TypeDescription type) {
        List<String> missing = new ArrayList<>();
        requireField(type, "unwritable", "int", missing);
        requireField(type, "totalPendingSize", "long", missing);
        requireField(type, "channel", CHANNEL, missing);
        requireMethod(type, Shapes.WRITABILITY, "fireChannelWritabilityChanged(boolean)", missing);
        requireMethod(type, Shapes.DRAIN, "removeBytes(long)", missing);
        requireMethod(type, Shapes.FAIL, "failFlushed(Throwable, boolean)", missing);
        requireMethod(type, Shapes.CLOSE, "close(Throwable, boolean)", missing);
        return missing;
    }

    private static void requireField(TypeDescription type, String name, String typeName, List<String> missing) {
        for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
            if (f.getName().equals(name) && f.getType().asErasure().getName().equals(typeName)) {
                return;
            }
        }
        missing.add("field " + typeName + " " + name);
    }

    private static void requireMethod(TypeDescription type, ElementMatcher.Junction<MethodDescription> m, String label,
                                      List<String> missing) {
        if (type.getDeclaredMethods().filter(m).isEmpty()) {
            missing.add(label);
        }
    }

    /** Every Netty jar carries this file naming its own artifact; look through all of them for the transport. */
    static String nettyVersion(ClassLoader loader) {
        try {
            Enumeration<URL> files = loader == null
                    ? ClassLoader.getSystemResources("META-INF/io.netty.versions.properties")
                    : loader.getResources("META-INF/io.netty.versions.properties");
            while (files.hasMoreElements()) {
                try (InputStream in = files.nextElement().openStream()) {
                    Properties p = new Properties();
                    p.load(in);
                    String v = p.getProperty("netty-transport.version");
                    if (v != null) {
                        return v;
                    }
                }
            }
        } catch (Exception ignored) {
            // fall through
        }
        return "(version unknown)";
    }
}

package io.highwater.netty;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.instrument.Reference;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.nameEndsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Instruments Netty 4.1 and 4.2, and every copy of it relocated into another package (grpc-netty-shaded, drivers, fat
 * jars), which are classes of their own with the same shape: {@code ChannelOutboundBuffer}, which every transport with
 * an outbound buffer shares (NIO, epoll, kqueue, io_uring), and {@code AbstractChannelHandlerContext}, where writes
 * enter a pipeline. Only methods and fields that have the expected shape are touched; a copy of another shape is
 * skipped with one log line.
 */
public final class NettyInstrumentation {

    static final String BUFFER = "io.netty.channel.ChannelOutboundBuffer";
    static final String CONTEXT = "io.netty.channel.AbstractChannelHandlerContext";
    /** What relocated copies keep after their own prefix. */
    static final String PACKAGE = "io/netty/";
    private static final String CHANNEL = "io.netty.channel.Channel";
    private static final String PROMISE = "io.netty.channel.ChannelPromise";
    private static final String ADVICE = "io.highwater.netty.advice.";
    private static final String PIPELINE_WRITE = ADVICE + "PipelineWriteAdvice";
    private static final String PIPELINE_WRITE_PROMISE = ADVICE + "PipelineWritePromiseAdvice";

    /**
     * The method shapes, built on first use: Byte Buddy's matchers load a few hundred classes, which must wait
     * until a Netty class actually loads, not slow down the host's start-up. Netty's own types are matched by the end
     * of their names, so that a relocated copy's match too.
     */
    private static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> WRITE_MESSAGE = named("write")
                .and(takesArguments(1)).and(takesArgument(0, Object.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITE = named("write")
                .and(takesArguments(2)).and(takesArgument(0, Object.class))
                .and(takesArgument(1, nameEndsWith(PROMISE))).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITE_AND_FLUSH = named("writeAndFlush")
                .and(takesArguments(2)).and(takesArgument(0, Object.class))
                .and(takesArgument(1, nameEndsWith(PROMISE))).and(not(isAbstract()));
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

    /** The transformation target for {@code ChannelOutboundBuffer}: pending bytes, writability, drains, close. */
    public static AdviceTransformer.Target target(InstrumentationReport report) {
        return new NettyTarget(BUFFER, "ChannelOutboundBuffer", report) {
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
            List<String> missing(TypeDescription type) {
                return missingShape(type);
            }
        };
    }

    /**
     * The transformation target for {@code AbstractChannelHandlerContext}: where writes enter a pipeline, and where
     * they are judged. Without it, pending bytes and waits are still seen, ignored writes are not.
     */
    public static AdviceTransformer.Target pipelineTarget(InstrumentationReport report) {
        return new NettyTarget(CONTEXT, "pipeline writes", report) {
            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.WRITE_MESSAGE, PIPELINE_WRITE);
                // with the promise at hand, a write the guard refuses can be failed instead of made
                m.put(Shapes.WRITE.or(Shapes.WRITE_AND_FLUSH), PIPELINE_WRITE_PROMISE);
                return m;
            }

            @Override
            public Set<String> oncePerCall() {
                // 4.1's write(Object) calls write(Object, ChannelPromise); 4.2's goes straight to the funnel
                return new java.util.HashSet<>(java.util.Arrays.asList(PIPELINE_WRITE, PIPELINE_WRITE_PROMISE));
            }

            @Override
            List<String> missing(TypeDescription type) {
                List<String> missing = new ArrayList<>();
                requireMethod(type, Shapes.WRITE, "write(Object, ChannelPromise)", missing);
                requireMethod(type, Shapes.WRITE_AND_FLUSH, "writeAndFlush(Object, ChannelPromise)", missing);
                return missing;
            }

            @Override
            String consequence() {
                return "; ignored writes are not judged";
            }
        };
    }

    /** A Netty class, in Netty itself and in every relocated copy. */
    private abstract static class NettyTarget implements AdviceTransformer.Target {
        private final String className;
        private final String part;
        private final InstrumentationReport report;

        NettyTarget(String className, String part, InstrumentationReport report) {
            this.className = className;
            this.part = part;
            this.report = report;
        }

        abstract List<String> missing(TypeDescription type);

        String consequence() {
            return "";
        }

        @Override
        public String internalName() {
            return className.replace('.', '/');
        }

        @Override
        public String relocatable() {
            return PACKAGE;
        }

        @Override
        public String check(TypeDescription type, ClassLoader loader) {
            String label = label(type.getName(), loader);
            List<String> missing = new ArrayList<>(missing(type));
            // what NettyAccess reads of this copy, checked now from its class files (not at the first slow path)
            int at = type.getName().indexOf("io.netty.");
            String prefix = at <= 0 ? "" : type.getName().substring(0, at);
            missing.addAll(Reference.missing(loader, NettyAccess.references(prefix)));
            return report.verdict(label, loader, type.getSimpleName(), missing, consequence(), part);
        }
    }

    /** {@code netty 4.2.18.Final}, or for a relocated copy {@code netty 4.1.127.Final relocated to io.grpc.netty.shaded}. */
    public static String label(String className, ClassLoader loader) {
        int at = className.indexOf("io.netty.");
        String prefix = at <= 0 ? "" : className.substring(0, at - 1);
        return "netty " + nettyVersion(loader, className) + (prefix.isEmpty() ? "" : " relocated to " + prefix);
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
            if (f.getName().equals(name) && f.getType().asErasure().getName().endsWith(typeName)) {
                return;
            }
        }
        missing.add("field " + typeName.substring(typeName.lastIndexOf('.') + 1) + " " + name);
    }

    private static void requireMethod(TypeDescription type, ElementMatcher.Junction<MethodDescription> m, String label,
                                      List<String> missing) {
        if (type.getDeclaredMethods().filter(m).isEmpty()) {
            missing.add(label);
        }
    }

    /**
     * Netty's version as its jar names it ({@code META-INF/io.netty.versions.properties}). First the jar that holds
     * {@code className}: a shaded jar carries the file of the Netty it relocated, sometimes renamed after the new
     * package, and sometimes with the entries of only one of Netty's modules. Only Netty itself then falls back to any
     * Netty jar the loader sees: for a relocated copy those are another Netty's.
     */
    static String nettyVersion(ClassLoader loader, String className) {
        int at = className.indexOf("io.netty.");
        boolean relocated = at > 0;
        try {
            URL classFile = loader == null ? ClassLoader.getSystemResource(className.replace('.', '/') + ".class")
                    : loader.getResource(className.replace('.', '/') + ".class");
            if (classFile != null) {
                URLConnection c = classFile.openConnection();
                if (c instanceof JarURLConnection) {
                    c.setUseCaches(false);
                    try (JarFile jar = ((JarURLConnection) c).getJarFile()) {
                        ZipEntry e = jar.getEntry("META-INF/" + (relocated ? className.substring(0, at) : "")
                                + "io.netty.versions.properties");
                        if (e == null) {
                            e = jar.getEntry("META-INF/io.netty.versions.properties");
                        }
                        if (e != null) {
                            try (InputStream in = jar.getInputStream(e)) {
                                String v = anyModuleVersion(in);
                                if (v != null) {
                                    return v;
                                }
                            }
                        }
                    }
                }
            }
            if (relocated) {
                return "(version unknown)";
            }
            Enumeration<URL> files = loader == null
                    ? ClassLoader.getSystemResources("META-INF/io.netty.versions.properties")
                    : loader.getResources("META-INF/io.netty.versions.properties");
            while (files.hasMoreElements()) {
                try (InputStream in = files.nextElement().openStream()) {
                    String v = anyModuleVersion(in);
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

    /** netty-transport's version, else any module's: a jar built from one Netty release names one version. */
    private static String anyModuleVersion(InputStream in) throws java.io.IOException {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("netty-transport.version");
        if (v != null) {
            return v;
        }
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("netty-") && key.endsWith(".version")) {
                return p.getProperty(key);
            }
        }
        return null;
    }
}

package io.highwater.servlet;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Manifest;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Instruments the servlet containers' own output streams ({@code javax.servlet} and {@code jakarta.servlet}
 * alike: the advice uses no servlet type) and, where a container has one the agent knows, the place where a
 * blocking write really waits for the client. Classes are matched by name; a class that is not there is simply
 * never instrumented, and one whose shape differs is skipped with one log line.
 *
 * <p>The list of streams is explicit because each container's {@code write} methods call each other differently:
 * only methods that do not delegate to another instrumented {@code write} of the same stream are advised, so one
 * application write is counted once (also when it throws: each advised {@code write} reports a refusal only for the
 * write it did not judge on entry, and no advised {@code write} runs inside another).
 *
 * <p>Two more classes show where an application write's own bytes are while a write is in progress: Tomcat's
 * {@code OutputBuffer}, which passes a write larger than the response buffer down in slices of the application's
 * array, and Jetty 12's {@code HttpOutput$AsyncWrite}, which hands large async content to the connection one slice
 * at a time.
 */
public final class ServletInstrumentation {

    private static final String ADVICE = "io.highwater.servlet.advice.";

    /**
     * The method shapes, built on first use: Byte Buddy's matchers load a few hundred classes, which must wait until
     * a container class actually loads, not slow down the host's start-up.
     */
    static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> IS_READY = named("isReady").and(takesArguments(0))
                .and(returns(boolean.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITE_ARRAY = named("write").and(takesArguments(3))
                .and(takesArgument(0, byte[].class)).and(takesArgument(1, int.class)).and(takesArgument(2, int.class))
                .and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITE_BYTE = named("write").and(takesArguments(1))
                .and(takesArgument(0, int.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> WRITE_BUFFER = named("write").and(takesArguments(1))
                .and(takesArgument(0, ByteBuffer.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> JETTY_BLOCKING_WRITE = named("channelWrite")
                .and(takesArguments(2)).and(takesArgument(0, ByteBuffer.class)).and(takesArgument(1, boolean.class))
                .and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> UNDERTOW_BUFFER_WRITE = named("writeBufferBlocking")
                .and(takesArguments(1)).and(takesArgument(0, boolean.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> UNDERTOW_ARRAY_WRITE = named("writeBlocking")
                .and(takesArguments(4)).and(takesArgument(0, ByteBuffer[].class)).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class)).and(takesArgument(3, int.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> TOMCAT_REGISTER_WRITE = named("registerWriteInterest")
                .and(takesArguments(0)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> TOMCAT_DO_WRITE = named("doWrite").and(takesArguments(2))
                .and(takesArgument(0, boolean.class)).and(takesArgument(1, ByteBuffer.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> TOMCAT_APPEND_ARRAY = named("appendByteArray")
                .and(takesArguments(3)).and(takesArgument(0, byte[].class)).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> TOMCAT_REAL_WRITE = named("realWriteBytes")
                .and(takesArguments(1)).and(takesArgument(0, ByteBuffer.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> CONSTRUCTOR = isConstructor();
    }

    /** A container stream: which of its methods are advised, and which it must have. */
    static final class Stream {
        final String container;
        final String className;
        final boolean writeByte;
        final boolean writeBuffer;
        final String recycle;
        final Blocking blocking;

        Stream(String container, String className, boolean writeByte, boolean writeBuffer, String recycle,
               Blocking blocking) {
            this.container = container;
            this.className = className;
            this.writeByte = writeByte;
            this.writeBuffer = writeBuffer;
            this.recycle = recycle;
            this.blocking = blocking;
        }
    }

    /** Where a stream's blocking writes are timed by their duration (Tomcat's are measured at its socket instead). */
    enum Blocking {
        NONE,
        /** {@code channelWrite(ByteBuffer, boolean)}: one buffer handed to the connection, blocking on its callback. */
        JETTY,
        /** {@code writeBufferBlocking(boolean)} and {@code writeBlocking(ByteBuffer[], int, int, int)}. */
        UNDERTOW
    }

    /** The known container streams; extend here. */
    static final List<Stream> STREAMS = Arrays.asList(
            // Tomcat 9 (javax), 10 and 11 (jakarta): write(byte[]) delegates to write(byte[], int, int)
            new Stream("tomcat", "org.apache.catalina.connector.CoyoteOutputStream", true, true, "clear", Blocking.NONE),
            // Jetty 12 ee10 (jakarta)
            new Stream("jetty", "org.eclipse.jetty.ee10.servlet.HttpOutput", true, true, "recycle", Blocking.JETTY),
            // Jetty 9.4 (javax) and 10 (javax)
            new Stream("jetty", "org.eclipse.jetty.server.HttpOutput", true, true, "recycle", Blocking.JETTY),
            // Undertow 2.x (jakarta): write(int) delegates to write(byte[], int, int), write(ByteBuffer) to
            // write(ByteBuffer[]), which is Undertow's own API and not advised; nothing to recycle (a stream per
            // exchange, held weakly)
            new Stream("undertow", "io.undertow.servlet.spec.ServletOutputStreamImpl", false, true, null,
                    Blocking.UNDERTOW));

    static final String TOMCAT_NIO_SOCKET = "org.apache.tomcat.util.net.NioEndpoint$NioSocketWrapper";
    static final String TOMCAT_OUTPUT_BUFFER = "org.apache.catalina.connector.OutputBuffer";
    static final String JETTY_ASYNC_WRITE = "org.eclipse.jetty.ee10.servlet.HttpOutput$AsyncWrite";

    private ServletInstrumentation() {
    }

    /** The start-up line's claim: only the container versions the tests run on. */
    static String watching() {
        return "servlet containers: tomcat 9.0 and 11.0, jetty 12 ee10, undertow 2.3 (javax and jakarta)";
    }

    /** Every servlet transformation target. */
    public static List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        List<AdviceTransformer.Target> out = new ArrayList<>();
        for (Stream s : STREAMS) {
            out.add(streamTarget(s, report));
        }
        out.add(tomcatSocketTarget(report));
        out.add(tomcatOutputBufferTarget(report));
        out.add(jettyAsyncWriteTarget(report));
        return out;
    }

    static AdviceTransformer.Target streamTarget(Stream s, InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return s.className.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.IS_READY, ADVICE + "IsReadyAdvice");
                m.put(Shapes.WRITE_ARRAY, ADVICE + "WriteArrayAdvice");
                if (s.writeByte) {
                    m.put(Shapes.WRITE_BYTE, ADVICE + "WriteByteAdvice");
                }
                if (s.writeBuffer) {
                    m.put(Shapes.WRITE_BUFFER, ADVICE + "WriteBufferAdvice");
                }
                if (s.recycle != null) {
                    m.put(named(s.recycle).and(takesArguments(0)).and(not(isAbstract())), ADVICE + "RecycleAdvice");
                }
                if (s.blocking == Blocking.JETTY) {
                    m.put(Shapes.JETTY_BLOCKING_WRITE, ADVICE + "BlockingWriteAdvice");
                } else if (s.blocking == Blocking.UNDERTOW) {
                    m.put(Shapes.UNDERTOW_BUFFER_WRITE, ADVICE + "UndertowBufferWriteAdvice");
                    m.put(Shapes.UNDERTOW_ARRAY_WRITE, ADVICE + "UndertowArrayWriteAdvice");
                }
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = s.container + " " + version(loader, internalName());
                List<String> missing = new ArrayList<>();
                requireMethod(type, Shapes.IS_READY, "isReady()", missing);
                requireMethod(type, Shapes.WRITE_ARRAY, "write(byte[], int, int)", missing);
                if (!missing.isEmpty()) {
                    String why = label + ": " + simpleName(s.className) + " lacks " + String.join(", ", missing);
                    report.skipped(why);
                    return why;
                }
                if (s.blocking == Blocking.UNDERTOW && !type.getDeclaredMethods().filter(Shapes.UNDERTOW_BUFFER_WRITE).isEmpty()
                        && !hasField(type, "buffer", ByteBuffer.class)) {
                    String why = label + ": " + simpleName(s.className) + " lacks field ByteBuffer buffer";
                    report.skipped(why);
                    return why;
                }
                String invisible = bootstrapInvisible(label, loader);
                if (invisible != null) {
                    report.skipped(invisible);
                    return invisible;
                }
                String blocking = "";
                if (s.blocking == Blocking.JETTY
                        && !type.getDeclaredMethods().filter(Shapes.JETTY_BLOCKING_WRITE).isEmpty()) {
                    blocking = ", blocking writes: duration of the channel write";
                } else if (s.blocking == Blocking.UNDERTOW
                        && !type.getDeclaredMethods().filter(Shapes.UNDERTOW_BUFFER_WRITE).isEmpty()) {
                    blocking = ", blocking writes: duration of the hand-over to the channel";
                }
                report.instrumented(label + " (" + simpleName(s.className) + blocking + ")");
                return null;
            }
        };
    }

    private static AdviceTransformer.Target tomcatSocketTarget(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return TOMCAT_NIO_SOCKET.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.TOMCAT_REGISTER_WRITE, ADVICE + "TomcatWaitAdvice");
                m.put(Shapes.TOMCAT_DO_WRITE, ADVICE + "TomcatWriteAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "tomcat " + version(loader, internalName());
                List<String> missing = new ArrayList<>();
                if (!hasField(type, "writeBlocking", boolean.class)) {
                    missing.add("field boolean writeBlocking");
                }
                requireMethod(type, Shapes.TOMCAT_REGISTER_WRITE, "registerWriteInterest()", missing);
                requireMethod(type, Shapes.TOMCAT_DO_WRITE, "doWrite(boolean, ByteBuffer)", missing);
                if (!missing.isEmpty()) {
                    String why = label + ": NioSocketWrapper lacks " + String.join(", ", missing)
                            + "; blocking writes are not measured";
                    report.skipped(why);
                    return why;
                }
                String invisible = bootstrapInvisible(label, loader);
                if (invisible != null) {
                    report.skipped(invisible);
                    return invisible;
                }
                report.instrumented(label + " (NioSocketWrapper: blocking writes waiting for the socket)");
                return null;
            }
        };
    }

    private static AdviceTransformer.Target tomcatOutputBufferTarget(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return TOMCAT_OUTPUT_BUFFER.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.TOMCAT_APPEND_ARRAY, ADVICE + "TomcatArrayWriteAdvice");
                m.put(Shapes.TOMCAT_REAL_WRITE, ADVICE + "TomcatSliceAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "tomcat " + version(loader, internalName());
                List<String> missing = new ArrayList<>();
                if (!hasField(type, "bb", ByteBuffer.class)) {
                    missing.add("field ByteBuffer bb");
                }
                requireMethod(type, Shapes.TOMCAT_APPEND_ARRAY, "appendByteArray(byte[], int, int)", missing);
                requireMethod(type, Shapes.TOMCAT_REAL_WRITE, "realWriteBytes(ByteBuffer)", missing);
                return checked(report, label, "OutputBuffer", missing,
                        "the part of a write larger than the response buffer that is still in the application's array"
                                + " is not counted", loader, "OutputBuffer: writes larger than the response buffer");
            }
        };
    }

    private static AdviceTransformer.Target jettyAsyncWriteTarget(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return JETTY_ASYNC_WRITE.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.CONSTRUCTOR, ADVICE + "JettySlicedWriteAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "jetty " + version(loader, internalName());
                List<String> missing = new ArrayList<>();
                for (String field : new String[] {"_buffer", "_slice"}) {
                    if (!hasField(type, field, ByteBuffer.class)) {
                        missing.add("field ByteBuffer " + field);
                    }
                }
                if (!hasFieldInHierarchy(type, "this$0")) {
                    missing.add("its HttpOutput (this$0)");
                }
                return checked(report, label, "HttpOutput$AsyncWrite", missing,
                        "the part of a large async write not handed to the connection yet is not counted", loader,
                        "HttpOutput$AsyncWrite: large async writes handed over in slices");
            }
        };
    }

    /** Reports and returns why {@code what} is skipped, or reports it instrumented and returns null. */
    private static String checked(InstrumentationReport report, String label, String what, List<String> missing,
                                  String consequence, ClassLoader loader, String instrumented) {
        if (!missing.isEmpty()) {
            String why = label + ": " + what + " lacks " + String.join(", ", missing) + "; " + consequence;
            report.skipped(why);
            return why;
        }
        String invisible = bootstrapInvisible(label, loader);
        if (invisible != null) {
            report.skipped(invisible);
            return invisible;
        }
        report.instrumented(label + " (" + instrumented + ")");
        return null;
    }

    private static boolean hasField(TypeDescription type, String name, Class<?> fieldType) {
        for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
            if (f.getName().equals(name) && f.getType().asErasure().represents(fieldType)) {
                return true;
            }
        }
        return false;
    }

    /** A field named {@code name} declared by {@code type} or a superclass that Byte Buddy can describe. */
    private static boolean hasFieldInHierarchy(TypeDescription type, String name) {
        for (TypeDescription t = type; t != null; t = t.getSuperClass() == null ? null : t.getSuperClass().asErasure()) {
            if (!t.getDeclaredFields().filter(named(name)).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private static void requireMethod(TypeDescription type, ElementMatcher.Junction<MethodDescription> m, String label,
                                      List<String> missing) {
        if (type.getDeclaredMethods().filter(m).isEmpty()) {
            missing.add(label);
        }
    }

    private static String bootstrapInvisible(String label, ClassLoader loader) {
        try {
            Class.forName("io.highwater.bootstrap.Bridge", false, loader);
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return label + " in " + loader + ": its class loader does not delegate to the bootstrap class path";
        }
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    /** The version in the manifest of the jar that holds {@code internalName}, or "(version unknown)". */
    static String version(ClassLoader loader, String internalName) {
        try {
            URL url = loader == null ? ClassLoader.getSystemResource(internalName + ".class")
                    : loader.getResource(internalName + ".class");
            if (url != null) {
                URLConnection c = url.openConnection();
                if (c instanceof JarURLConnection) {
                    c.setUseCaches(false);
                    Manifest mf;
                    // setUseCaches(false) gives this connection its own jar file handle
                    try (java.util.jar.JarFile jar = ((JarURLConnection) c).getJarFile()) {
                        mf = jar.getManifest();
                    }
                    if (mf != null) {
                        for (String key : new String[] {"Implementation-Version", "Bundle-Version"}) {
                            String v = mf.getMainAttributes().getValue(key);
                            if (v != null && !v.isEmpty()) {
                                return v;
                            }
                        }
                    }
                }
            }
        } catch (Exception ignored) {
            // fall through
        }
        return "(version unknown)";
    }
}

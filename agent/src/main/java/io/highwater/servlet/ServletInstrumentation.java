package io.highwater.servlet;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.instrument.Reference;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Manifest;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * The servlet integration's shared instrumentation: the {@code javax}/{@code jakarta}-neutral advice on a container's
 * own output stream ({@code isReady}, the {@code write} methods, recycling; the advice uses no servlet type), and the
 * checks every target runs before it is changed. Each container's part ({@link ContainerPart}: Tomcat, Jetty,
 * Undertow) lists its streams and its own classes. Classes are matched by name; a class that is not there is simply
 * never instrumented, and one whose shape differs, or whose container lacks a {@link Reference} the part reads, is
 * skipped with one log line and a line in {@code status}.
 *
 * <p>The list of streams is explicit because each container's {@code write} methods call each other differently:
 * only methods that do not delegate to another instrumented {@code write} of the same stream are advised, so one
 * application write is counted once (also when it throws: each advised {@code write} reports a refusal only for the
 * write it did not judge on entry, and no advised {@code write} runs inside another).
 */
public final class ServletInstrumentation {

    private static final String ADVICE = "io.highwater.servlet.advice.";

    /**
     * The neutral method shapes, built on first use: Byte Buddy's matchers load a few hundred classes, which must wait
     * until a container class actually loads, not slow down the host's start-up.
     */
    public static final class Shapes {
        public static final ElementMatcher.Junction<MethodDescription> IS_READY = named("isReady")
                .and(takesArguments(0)).and(returns(boolean.class)).and(not(isAbstract()));
        public static final ElementMatcher.Junction<MethodDescription> WRITE_ARRAY = named("write")
                .and(takesArguments(3)).and(takesArgument(0, byte[].class)).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class)).and(not(isAbstract()));
        public static final ElementMatcher.Junction<MethodDescription> WRITE_BYTE = named("write")
                .and(takesArguments(1)).and(takesArgument(0, int.class)).and(not(isAbstract()));
        public static final ElementMatcher.Junction<MethodDescription> WRITE_BUFFER = named("write")
                .and(takesArguments(1)).and(takesArgument(0, ByteBuffer.class)).and(not(isAbstract()));

        private Shapes() {
        }
    }

    /**
     * A container's output stream: which of its neutral methods are advised, and what its container adds (the place
     * where its blocking writes wait, the references its access reads).
     */
    public static class Stream {
        final String container;
        final String className;
        final boolean writeByte;
        final boolean writeBuffer;
        final String recycle;

        public Stream(String container, String className, boolean writeByte, boolean writeBuffer, String recycle) {
            this.container = container;
            this.className = className;
            this.writeByte = writeByte;
            this.writeBuffer = writeBuffer;
            this.recycle = recycle;
        }

        /** The container's own advice on the stream's class (its blocking writes), by method. */
        protected void addAdvice(Map<ElementMatcher<? super MethodDescription>, String> advice) {
        }

        /** What the container's access reads of this stream and of its objects: all must be there. */
        protected List<Reference> references() {
            return Collections.emptyList();
        }

        /** What this version of the stream lacks of the container's own shape (beyond the neutral one), or null. */
        protected String gap(TypeDescription type) {
            return null;
        }

        /**
         * What the start-up line adds for this version ({@code ", blocking writes: ..."}); a part of the stream this
         * version cannot serve is reported skipped here, with why.
         */
        protected String describe(TypeDescription type, String label, InstrumentationReport report) {
            return "";
        }

        /** As {@link #describe(TypeDescription, String, InstrumentationReport)}, with the container's class loader. */
        protected String describe(TypeDescription type, String label, InstrumentationReport report,
                                  ClassLoader loader) {
            return describe(type, label, report);
        }
    }

    private ServletInstrumentation() {
    }

    /** The target of a container's output stream. */
    public static AdviceTransformer.Target streamTarget(Stream s, InstrumentationReport report) {
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
                s.addAdvice(m);
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = s.container + " " + version(loader, internalName());
                List<String> missing = new ArrayList<>();
                requireMethod(type, Shapes.IS_READY, "isReady()", missing);
                requireMethod(type, Shapes.WRITE_ARRAY, "write(byte[], int, int)", missing);
                String gap = s.gap(type);
                if (gap != null) {
                    missing.add(gap);
                }
                missing.addAll(Reference.missing(loader, s.references()));
                if (!missing.isEmpty()) {
                    String why = label + ": " + simpleName(s.className) + " lacks " + String.join(", ", missing)
                            + "; its streams are not watched";
                    report.skipped(why);
                    return why;
                }
                String invisible = InstrumentationReport.bootstrapInvisible(label, loader);
                if (invisible != null) {
                    report.skipped(invisible);
                    return invisible;
                }
                report.instrumented(label + " (" + simpleName(s.className) + s.describe(type, label, report, loader) + ")");
                return null;
            }
        };
    }

    /** Reports and returns why {@code what} is skipped, or reports it instrumented and returns null. */
    public static String checked(InstrumentationReport report, String label, String what, List<String> missing,
                                 String consequence, ClassLoader loader, String instrumented) {
        return report.verdict(label, loader, what, missing, "; " + consequence, instrumented);
    }

    public static boolean hasField(TypeDescription type, String name, Class<?> fieldType) {
        for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
            if (f.getName().equals(name) && f.getType().asErasure().represents(fieldType)) {
                return true;
            }
        }
        return false;
    }

    /** A field named {@code name} declared by {@code type} or a superclass that Byte Buddy can describe. */
    public static boolean hasFieldInHierarchy(TypeDescription type, String name) {
        for (TypeDescription t = type; t != null; t = t.getSuperClass() == null ? null : t.getSuperClass().asErasure()) {
            if (!t.getDeclaredFields().filter(named(name)).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    public static void requireMethod(TypeDescription type, ElementMatcher.Junction<MethodDescription> m, String label,
                                     List<String> missing) {
        if (type.getDeclaredMethods().filter(m).isEmpty()) {
            missing.add(label);
        }
    }

    public static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    /** The version in the manifest of the jar that holds {@code internalName}, or "(version unknown)". */
    public static String version(ClassLoader loader, String internalName) {
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

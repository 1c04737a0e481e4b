package io.highwater.servlet.tomcat;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.instrument.Reference;
import io.highwater.servlet.ContainerAccess;
import io.highwater.servlet.ContainerPart;
import io.highwater.servlet.ServletInstrumentation;
import io.highwater.servlet.WritesInProgress;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.nio.ByteBuffer;
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
 * Tomcat 9 ({@code javax}), 10.1 and 11 ({@code jakarta}), NIO connector: its stream ({@code CoyoteOutputStream}),
 * the socket where a blocking write waits ({@code NioEndpoint$NioSocketWrapper}: from the moment the write finds the
 * socket full to its return), and the response buffer that passes a write larger than itself down in slices of the
 * application's array ({@code OutputBuffer}). Each of the three is checked on its own; a Tomcat that lacks one loses
 * that one, with a line saying what is not measured.
 */
public final class TomcatPart implements ContainerPart {

    private static final String ADVICE = "io.highwater.servlet.tomcat.advice.";
    static final String NIO_SOCKET = "org.apache.tomcat.util.net.NioEndpoint$NioSocketWrapper";

    /** The method shapes, built on first use (see {@link ServletInstrumentation.Shapes}). */
    static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> REGISTER_WRITE = named("registerWriteInterest")
                .and(takesArguments(0)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> DO_WRITE = named("doWrite").and(takesArguments(2))
                .and(takesArgument(0, boolean.class)).and(takesArgument(1, ByteBuffer.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> APPEND_ARRAY = named("appendByteArray")
                .and(takesArguments(3)).and(takesArgument(0, byte[].class)).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> REAL_WRITE = named("realWriteBytes")
                .and(takesArguments(1)).and(takesArgument(0, ByteBuffer.class)).and(not(isAbstract()));

        private Shapes() {
        }
    }

    @Override
    public String name() {
        return "tomcat";
    }

    @Override
    public String tested() {
        return "tomcat 9.0.112, 10.1.49, 11.0.27";
    }

    @Override
    public ContainerAccess access(WritesInProgress writes) {
        return new TomcatAccess(writes);
    }

    @Override
    public List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        List<Reference> streamRefs = new ArrayList<>(TomcatAccess.STREAM_REFS);
        streamRefs.addAll(TomcatAccess.SOCKET);
        // write(byte[]) delegates to write(byte[], int, int)
        ServletInstrumentation.Stream stream = new ServletInstrumentation.Stream("tomcat", TomcatAccess.STREAM,
                true, true, "clear") {
            @Override
            protected List<Reference> references() {
                return streamRefs;
            }

            @Override
            protected String describe(TypeDescription type, String label, InstrumentationReport report,
                                      ClassLoader loader) {
                List<String> missing = Reference.missing(loader, TomcatAccess.GUARD);
                if (missing.isEmpty()) {
                    return "";
                }
                // watched all the same: only the guard's close is not there, and it says so when it would close
                report.skipped(label + ": the guard cannot close its connections (lacks " + String.join(", ", missing)
                        + "); what it would close is counted with backpressure.guard.enforced=false");
                return ", no guard close";
            }
        };
        return List.of(ServletInstrumentation.streamTarget(stream, report), socketTarget(report),
                outputBufferTarget(report));
    }

    private static AdviceTransformer.Target socketTarget(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return NIO_SOCKET.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.REGISTER_WRITE, ADVICE + "TomcatWaitAdvice");
                m.put(Shapes.DO_WRITE, ADVICE + "TomcatWriteAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "tomcat " + ServletInstrumentation.version(loader, internalName());
                List<String> missing = new ArrayList<>();
                if (!ServletInstrumentation.hasField(type, "writeBlocking", boolean.class)) {
                    missing.add("field boolean writeBlocking");
                }
                ServletInstrumentation.requireMethod(type, Shapes.REGISTER_WRITE, "registerWriteInterest()", missing);
                ServletInstrumentation.requireMethod(type, Shapes.DO_WRITE, "doWrite(boolean, ByteBuffer)", missing);
                missing.addAll(Reference.missing(loader, TomcatAccess.SOCKET));
                return ServletInstrumentation.checked(report, label, "NioSocketWrapper", missing,
                        "blocking writes are not measured", loader,
                        "NioSocketWrapper: blocking writes waiting for the socket");
            }
        };
    }

    private static AdviceTransformer.Target outputBufferTarget(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return TomcatAccess.OUTPUT_BUFFER.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(Shapes.APPEND_ARRAY, ADVICE + "TomcatArrayWriteAdvice");
                m.put(Shapes.REAL_WRITE, ADVICE + "TomcatSliceAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "tomcat " + ServletInstrumentation.version(loader, internalName());
                List<String> missing = new ArrayList<>();
                if (!ServletInstrumentation.hasField(type, "bb", ByteBuffer.class)) {
                    missing.add("field ByteBuffer bb");
                }
                ServletInstrumentation.requireMethod(type, Shapes.APPEND_ARRAY, "appendByteArray(byte[], int, int)",
                        missing);
                ServletInstrumentation.requireMethod(type, Shapes.REAL_WRITE, "realWriteBytes(ByteBuffer)", missing);
                missing.addAll(Reference.missing(loader, List.of(TomcatAccess.OB_COYOTE_RESPONSE,
                        TomcatAccess.RESPONSE_HOOK, TomcatAccess.PROCESSOR_SOCKET)));
                return ServletInstrumentation.checked(report, label, "OutputBuffer", missing,
                        "the part of a write larger than the response buffer that is still in the application's array"
                                + " is not counted", loader, "OutputBuffer: writes larger than the response buffer");
            }
        };
    }
}

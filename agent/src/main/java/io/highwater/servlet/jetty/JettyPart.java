package io.highwater.servlet.jetty;

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
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Jetty's stream, {@code HttpOutput}, in Jetty 12 ee10 ({@code jakarta}) and in Jetty 9.4, 10 ({@code javax}) and 11
 * ({@code jakarta}), which share one shape in {@code org.eclipse.jetty.server}: a blocking write is timed around
 * {@code channelWrite(ByteBuffer, boolean)} (hand one buffer to the connection, block on its callback), and an async
 * write whose content is handed to the connection in slices ({@code HttpOutput$AsyncWrite}) is announced, so that the
 * part still in the application's array is counted.
 */
public final class JettyPart implements ContainerPart {

    private static final String ADVICE = "io.highwater.servlet.jetty.advice.";

    /** The method shapes, built on first use (see {@link ServletInstrumentation.Shapes}). */
    static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> CHANNEL_WRITE = named("channelWrite")
                .and(takesArguments(2)).and(takesArgument(0, ByteBuffer.class)).and(takesArgument(1, boolean.class))
                .and(not(isAbstract()));

        private Shapes() {
        }
    }

    @Override
    public String name() {
        return "jetty";
    }

    @Override
    public String tested() {
        return "jetty 9.4.58, 10.0.26, 11.0.26, 12.1.14 ee10";
    }

    @Override
    public ContainerAccess access(WritesInProgress writes) {
        return new JettyAccess(writes);
    }

    @Override
    public List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        return List.of(ServletInstrumentation.streamTarget(stream(JettyAccess.EE10_SHAPE), report),
                ServletInstrumentation.streamTarget(stream(JettyAccess.LEGACY_SHAPE), report),
                slicedWriteTarget(JettyAccess.EE10_SHAPE, report), slicedWriteTarget(JettyAccess.LEGACY_SHAPE, report));
    }

    private static ServletInstrumentation.Stream stream(JettyAccess.Shape shape) {
        return new ServletInstrumentation.Stream("jetty", shape.stream, true, true, "recycle") {
            @Override
            protected void addAdvice(Map<ElementMatcher<? super MethodDescription>, String> advice) {
                advice.put(Shapes.CHANNEL_WRITE, ADVICE + "JettyChannelWriteAdvice");
            }

            @Override
            protected List<Reference> references() {
                return shape.all;
            }

            @Override
            protected String gap(TypeDescription type) {
                // without it a blocking write would be invisible while its stream is watched: not half of Jetty
                return type.getDeclaredMethods().filter(Shapes.CHANNEL_WRITE).isEmpty()
                        ? "channelWrite(ByteBuffer, boolean)" : null;
            }

            @Override
            protected String describe(TypeDescription type, String label, InstrumentationReport report,
                                      ClassLoader loader) {
                List<String> missing = Reference.missing(loader, List.of(JettyAccess.END_POINT_CLOSE));
                if (!missing.isEmpty()) {
                    // watched all the same: only the guard's close is not there, and it says so when it would close
                    report.skipped(label + ": the guard cannot close its connections (lacks "
                            + String.join(", ", missing) + "); what it would close is counted with"
                            + " backpressure.guard.enforced=false");
                }
                return ", blocking writes: duration of the channel write";
            }
        };
    }

    private static AdviceTransformer.Target slicedWriteTarget(JettyAccess.Shape shape, InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return (shape.stream + "$AsyncWrite").replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(isConstructor(), ADVICE + "JettySlicedWriteAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "jetty " + ServletInstrumentation.version(loader, internalName());
                List<String> missing = new ArrayList<>();
                for (String field : new String[] {"_buffer", "_slice"}) {
                    if (!ServletInstrumentation.hasField(type, field, ByteBuffer.class)) {
                        missing.add("field ByteBuffer " + field);
                    }
                }
                if (!ServletInstrumentation.hasFieldInHierarchy(type, "this$0")) {
                    missing.add("its HttpOutput (this$0)");
                }
                return ServletInstrumentation.checked(report, label, "HttpOutput$AsyncWrite", missing,
                        "the part of a large async write not handed to the connection yet is not counted", loader,
                        "HttpOutput$AsyncWrite: large async writes handed over in slices");
            }
        };
    }
}

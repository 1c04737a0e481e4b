package io.highwater.reactor;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDefinition;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * The Reactor classes the agent changes, each checked against the fields and method its advice uses before it is
 * touched (another shape is skipped with one line, and that source is not watched).
 */
final class ReactorInstrumentation {

    private static final String ADVICE = "io.highwater.reactor.advice.";

    private ReactorInstrumentation() {
    }

    static List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        return Arrays.asList(
                new ReactorTarget("reactor.core.publisher.FluxCreate$BufferAsyncSink", "next",
                        ADVICE + "CreateNextAdvice", "Flux.create/push BUFFER sinks", report),
                new ReactorTarget("reactor.core.publisher.SinkManyUnicast", "tryEmitNext",
                        ADVICE + "UnicastEmitAdvice", "unicast sinks", report),
                new ReactorTarget("reactor.core.publisher.SinkManyEmitterProcessor", "tryEmitNext",
                        ADVICE + "MulticastEmitAdvice", "multicast sinks", report),
                new ReactorTarget("reactor.core.publisher.FluxOnBackpressureBuffer$BackpressureBufferSubscriber",
                        "onNext", ADVICE + "BufferNextAdvice", "onBackpressureBuffer operators", report));
    }

    private static final class ReactorTarget implements AdviceTransformer.Target {
        private final String className;
        private final String method;
        private final String advice;
        private final String part;
        private final InstrumentationReport report;

        ReactorTarget(String className, String method, String advice, String part, InstrumentationReport report) {
            this.className = className;
            this.method = method;
            this.advice = advice;
            this.part = part;
            this.report = report;
        }

        private ElementMatcher.Junction<MethodDescription> shape() {
            return named(method).and(takesArguments(1)).and(takesArgument(0, Object.class));
        }

        @Override
        public String internalName() {
            return className.replace('.', '/');
        }

        @Override
        public Map<ElementMatcher<? super MethodDescription>, String> advice() {
            return Collections.singletonMap(shape(), advice);
        }

        @Override
        public String check(TypeDescription type, ClassLoader loader) {
            List<String> missing = new ArrayList<>();
            if (type.getDeclaredMethods().filter(shape()).isEmpty()) {
                missing.add(method + "(Object)");
            }
            if (!advice.endsWith("MulticastEmitAdvice")) {
                requireField(type, "requested", "long", missing);
                requireField(type, "queue", "java.util.Queue", missing);
            } else {
                requireField(type, "queue", "java.util.Queue", missing);
                if (type.getDeclaredMethods().filter(shape().and(net.bytebuddy.matcher.ElementMatchers
                        .returns(net.bytebuddy.matcher.ElementMatchers.named("reactor.core.publisher.Sinks$EmitResult"))))
                        .isEmpty()) {
                    missing.add("Sinks.EmitResult " + method + "(Object)");
                }
            }
            String label = "reactor-core";
            return report.verdict(label, loader, type.getSimpleName(), missing, "; " + part + " are not watched", part);
        }

        /** A field declared by the type or one of its superclasses (Byte Buddy's field values see those too). */
        private static void requireField(TypeDescription type, String name, String typeName, List<String> missing) {
            for (TypeDefinition t = type; t != null; t = t.getSuperClass()) {
                for (FieldDescription f : t.getDeclaredFields()) {
                    if (f.getName().equals(name) && f.getType().asErasure().getName().equals(typeName)) {
                        return;
                    }
                }
            }
            missing.add("field " + name);
        }
    }
}

package io.highwater.http2;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.netty.NettyInstrumentation;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static net.bytebuddy.matcher.ElementMatchers.isPublic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Instruments Netty's HTTP/2 stream channels ({@code codec-http2}'s {@code AbstractHttp2StreamChannel}, the child
 * channels of {@code Http2MultiplexHandler}), in Netty itself and in every relocated copy: their writability
 * transitions. Writes into them are judged where every Netty write is, at the pipeline's entry (the netty
 * integration's advice), and handed to this integration because a stream channel has no outbound buffer.
 */
public final class Http2Instrumentation {

    static final String STREAM_CHANNEL = "io.netty.handler.codec.http2.AbstractHttp2StreamChannel";
    static final String FLOW_STATE = "io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController$FlowState";
    static final String FRAME_READ_LISTENER = "io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder$FrameReadListener";

    private Http2Instrumentation() {
    }

    public static List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        ElementMatcher.Junction<MethodDescription> fire = named("fireChannelWritabilityChanged").and(takesArguments(1))
                .and(takesArgument(0, boolean.class));
        return java.util.Arrays.asList(streamChannelTarget(fire, report), headersTarget(report),
                flowStateTarget(report));
    }

    /**
     * Where every flow-controlled frame enters a stream's queue in Netty's remote flow controller, whoever writes it:
     * the pending bytes, stop signal and ignored writes of streams without a stream channel (writers that call the
     * HTTP/2 encoder directly).
     */
    private static AdviceTransformer.Target flowStateTarget(InstrumentationReport report) {
        ElementMatcher.Junction<MethodDescription> enqueue = named("enqueueFrame").and(takesArguments(1))
                .and(returns(void.class));
        ElementMatcher.Junction<MethodDescription> cancel = named("cancel").and(takesArguments(2))
                .and(takesArgument(1, Throwable.class)).and(returns(void.class));
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return FLOW_STATE.replace('.', '/');
            }

            @Override
            public String relocatable() {
                return "io/netty/";
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> advice = new java.util.LinkedHashMap<>();
                advice.put(enqueue, "io.highwater.http2.advice.EnqueueFrameAdvice");
                advice.put(cancel, "io.highwater.http2.advice.StreamCancelAdvice");
                return advice;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "http2 " + NettyInstrumentation.label(type.getName(), loader);
                List<String> missing = new ArrayList<>();
                if (type.getDeclaredMethods().filter(enqueue).isEmpty()) {
                    missing.add("enqueueFrame(FlowControlled)");
                }
                if (type.getDeclaredMethods().filter(cancel).isEmpty()) {
                    missing.add("cancel(Http2Error, Throwable)");
                }
                // the advice reads pendingBytes; the slow path reads the rest reflectively, by these names
                for (String f : new String[] {"pendingBytes", "stream", "cancelled", "this$0"}) {
                    if (!hasField(type, f)) {
                        missing.add("field " + f);
                    }
                }
                for (String m : new String[] {"pendingBytes", "windowSize"}) {
                    if (type.getDeclaredMethods().filter(named(m).and(takesArguments(0))).isEmpty()) {
                        missing.add(m + "()");
                    }
                }
                TypeDescription controller = type.getDeclaringType() == null ? null
                        : type.getDeclaringType().asErasure();
                if (controller == null) {
                    missing.add("its declaring DefaultHttp2RemoteFlowController");
                } else {
                    for (String f : new String[] {"ctx", "connectionState"}) {
                        if (!hasField(controller, f)) {
                            missing.add("DefaultHttp2RemoteFlowController field " + f);
                        }
                    }
                    if (controller.getDeclaredMethods().filter(named("isWritable").and(takesArguments(1))
                            .and(isPublic())).isEmpty()) {
                        missing.add("DefaultHttp2RemoteFlowController.isWritable(Http2Stream)");
                    }
                }
                return report.verdict(label, loader, "DefaultHttp2RemoteFlowController$FlowState", missing,
                        "; streams written through the HTTP/2 encoder directly (no stream channel) are not watched",
                        "remote flow controller: streams without a stream channel");
            }
        };
    }

    /** Where a request's :path passes (per HEADERS frame): for the names of the streams. */
    private static AdviceTransformer.Target headersTarget(InstrumentationReport report) {
        // the 8-argument form, which the 5-argument one calls: one call per HEADERS frame; by erasure's argument
        // count and the primitive ones, since the Netty types differ per copy (names matched by their tail)
        ElementMatcher.Junction<MethodDescription> read = named("onHeadersRead").and(takesArguments(8))
                .and(takesArgument(1, int.class)).and(takesArgument(3, int.class))
                .and(takesArgument(4, short.class)).and(takesArgument(5, boolean.class))
                .and(takesArgument(6, int.class)).and(takesArgument(7, boolean.class));
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return FRAME_READ_LISTENER.replace('.', '/');
            }

            @Override
            public String relocatable() {
                return "io/netty/";
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                return Collections.singletonMap(read, "io.highwater.http2.advice.HeadersReadAdvice");
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "http2 " + NettyInstrumentation.label(type.getName(), loader);
                List<String> missing = type.getDeclaredMethods().filter(read).isEmpty()
                        ? Collections.singletonList("onHeadersRead(ctx, int, Http2Headers, int, short, boolean, int,"
                        + " boolean)") : Collections.emptyList();
                return report.verdict(label, loader, "DefaultHttp2ConnectionDecoder$FrameReadListener", missing,
                        "; streams show url.path unknown", "request paths of HTTP/2 streams");
            }
        };
    }

    private static AdviceTransformer.Target streamChannelTarget(ElementMatcher.Junction<MethodDescription> fire,
                                                                InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return STREAM_CHANNEL.replace('.', '/');
            }

            @Override
            public String relocatable() {
                return "io/netty/";
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                return Collections.singletonMap(fire, "io.highwater.http2.advice.ChildWritabilityAdvice");
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "http2 " + NettyInstrumentation.label(type.getName(), loader);
                List<String> missing = new ArrayList<>();
                if (type.getDeclaredMethods().filter(fire).isEmpty()) {
                    missing.add("fireChannelWritabilityChanged(boolean)");
                }
                if (!hasField(type, "totalPendingSize")) {
                    missing.add("field long totalPendingSize");
                }
                return report.verdict(label, loader, "AbstractHttp2StreamChannel", missing,
                        "; HTTP/2 stream channels are not watched", "stream channels: writability, writes while unwritable");
            }
        };
    }

    private static boolean hasField(TypeDescription type, String name) {
        for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
            if (f.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }
}

package io.highwater.grpc;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Manifest;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Instruments grpc-core ({@code io.grpc.internal}), which grpc-netty and grpc-netty-shaded share (the shaded jar
 * relocates Netty, not grpc-core): the calls' {@code sendMessage}, where each application message is judged once,
 * and the transport state's counting of queued bytes, which is what {@code isReady()} is made of.
 */
final class GrpcInstrumentation {

    private static final String ADVICE = "io.highwater.grpc.advice.";
    static final String SERVER_CALL = "io.grpc.internal.ServerCallImpl";
    static final String CLIENT_CALL = "io.grpc.internal.ClientCallImpl";
    static final String TRANSPORT_STATE = "io.grpc.internal.AbstractStream$TransportState";

    private GrpcInstrumentation() {
    }

    static List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        ElementMatcher.Junction<MethodDescription> send = named("sendMessage").and(takesArguments(1))
                .and(takesArgument(0, Object.class)).and(not(isAbstract()));
        return Arrays.asList(callTarget(SERVER_CALL, send, report), callTarget(CLIENT_CALL, send, report),
                stateTarget(report));
    }

    private static AdviceTransformer.Target callTarget(String className, ElementMatcher.Junction<MethodDescription> send,
                                                       InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return className.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(send, ADVICE + "SendMessageAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "grpc " + version(loader);
                String simple = className.substring(className.lastIndexOf('.') + 1);
                List<String> missing = new ArrayList<>();
                if (type.getDeclaredMethods().filter(send).isEmpty()) {
                    missing.add("sendMessage(Object)");
                }
                if (!hasField(type, "stream")) {
                    missing.add("field stream");
                }
                return checked(report, label, simple, missing, loader, simple + ": messages sent while not ready");
            }
        };
    }

    private static AdviceTransformer.Target stateTarget(InstrumentationReport report) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return TRANSPORT_STATE.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                m.put(named("onSendingBytes").and(takesArguments(1)).and(takesArgument(0, int.class)),
                        ADVICE + "SendingBytesAdvice");
                m.put(named("onSentBytes").and(takesArguments(1)).and(takesArgument(0, int.class)),
                        ADVICE + "SentBytesAdvice");
                m.put(named("onStreamDeallocated").and(takesArguments(0)), ADVICE + "DeallocatedAdvice");
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                String label = "grpc " + version(loader);
                List<String> missing = new ArrayList<>();
                for (String f : new String[] {"numSentBytesQueued", "onReadyThreshold"}) {
                    if (!hasField(type, f)) {
                        // without onReadyThreshold (grpc 1.60 has none) the threshold is a constant: not claimed yet
                        missing.add("field int " + f);
                    }
                }
                for (String m : new String[] {"onSendingBytes", "onSentBytes", "onStreamDeallocated"}) {
                    if (type.getDeclaredMethods().filter(named(m)).isEmpty()) {
                        missing.add(m + "()");
                    }
                }
                return checked(report, label, "AbstractStream$TransportState", missing, loader,
                        "AbstractStream$TransportState: isReady() from its queued bytes");
            }
        };
    }

    private static String checked(InstrumentationReport report, String label, String what, List<String> missing,
                                  ClassLoader loader, String instrumented) {
        return report.verdict(label, loader, what, missing, "; gRPC calls that are not ready are not watched",
                instrumented);
    }

    private static boolean hasField(TypeDescription type, String name) {
        for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
            if (f.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** grpc-core's version, from its jar's manifest ({@code Implementation-Version}); "(version unknown)" else. */
    static String version(ClassLoader loader) {
        try {
            URL url = loader == null ? ClassLoader.getSystemResource("io/grpc/internal/ServerCallImpl.class")
                    : loader.getResource("io/grpc/internal/ServerCallImpl.class");
            if (url != null) {
                URLConnection conn = url.openConnection();
                if (conn instanceof JarURLConnection) {
                    conn.setUseCaches(false);
                    Manifest mf = ((JarURLConnection) conn).getManifest();
                    String v = mf == null ? null : mf.getMainAttributes().getValue("Implementation-Version");
                    if (v != null) {
                        return v;
                    }
                }
            }
        } catch (Exception | LinkageError e) {
            // no version then
        }
        return "(version unknown)";
    }
}

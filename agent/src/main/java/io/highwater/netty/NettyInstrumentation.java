package io.highwater.netty;

import io.highwater.agent.InstrumentationReport;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

import java.io.InputStream;
import java.net.URL;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Properties;

import static net.bytebuddy.matcher.ElementMatchers.isPrivate;
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
    private static final String CHANNEL = "io.netty.channel.Channel";
    private static final String PROMISE = "io.netty.channel.ChannelPromise";
    private static final String ADVICE = "io.highwater.netty.advice.";

    private static final ElementMatcher<MethodDescription> ADD_MESSAGE = named("addMessage")
            .and(takesArguments(3)).and(takesArgument(0, Object.class)).and(takesArgument(1, int.class))
            .and(takesArgument(2, named(PROMISE)));
    private static final ElementMatcher<MethodDescription> SUBMIT = named("incrementPendingOutboundBytes")
            .and(takesArguments(1)).and(takesArgument(0, long.class)).and(not(isPrivate()));
    private static final ElementMatcher<MethodDescription> WRITABILITY = named("fireChannelWritabilityChanged")
            .and(takesArguments(1)).and(takesArgument(0, boolean.class));
    private static final ElementMatcher<MethodDescription> CLOSE = named("close")
            .and(takesArguments(2)).and(takesArgument(0, Throwable.class)).and(takesArgument(1, boolean.class));

    private NettyInstrumentation() {
    }

    public static AgentBuilder apply(AgentBuilder builder, ClassLoader agentLoader, InstrumentationReport report) {
        return builder
                .type(new Gate(report))
                .transform(new AgentBuilder.Transformer.ForAdvice()
                        .include(agentLoader)
                        .advice(ADD_MESSAGE, ADVICE + "AddMessageAdvice")
                        .advice(SUBMIT, ADVICE + "SubmitAdvice")
                        .advice(WRITABILITY, ADVICE + "WritabilityAdvice")
                        .advice(CLOSE, ADVICE + "CloseAdvice"));
    }

    /** Lets the buffer class through only when its shape matches and the bootstrap bridge is visible to it. */
    private static final class Gate implements AgentBuilder.RawMatcher {
        private final InstrumentationReport report;

        Gate(InstrumentationReport report) {
            this.report = report;
        }

        @Override
        public boolean matches(TypeDescription type, ClassLoader loader, JavaModule module,
                               Class<?> classBeingRedefined, ProtectionDomain protectionDomain) {
            if (!type.getName().equals(BUFFER)) {
                return false;
            }
            String version = nettyVersion(loader);
            List<String> missing = missingShape(type);
            if (!missing.isEmpty()) {
                report.skipped("netty " + version + ": ChannelOutboundBuffer lacks " + String.join(", ", missing));
                return false;
            }
            try {
                Class.forName("io.highwater.bootstrap.Bridge", false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                report.skipped("netty " + version + " in " + loader
                        + ": its class loader does not delegate to the bootstrap class path");
                return false;
            }
            report.instrumented("netty " + version + " (ChannelOutboundBuffer)");
            return true;
        }
    }

    static List<String> missingShape(TypeDescription type) {
        List<String> missing = new ArrayList<>();
        requireField(type, "unwritable", "int", missing);
        requireField(type, "totalPendingSize", "long", missing);
        requireField(type, "channel", CHANNEL, missing);
        requireMethod(type, ADD_MESSAGE, "addMessage(Object, int, ChannelPromise)", missing);
        requireMethod(type, SUBMIT, "incrementPendingOutboundBytes(long)", missing);
        requireMethod(type, WRITABILITY, "fireChannelWritabilityChanged(boolean)", missing);
        requireMethod(type, CLOSE, "close(Throwable, boolean)", missing);
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

    private static void requireMethod(TypeDescription type, ElementMatcher<MethodDescription> m, String label,
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

package io.highwater.socket;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.socket.bootstrap.SocketWrites;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Instruments the JDK's own socket classes (JDK 13 and later): {@code sun.nio.ch.NioSocketImpl} behind
 * {@code java.net.Socket}, {@code SocketChannelImpl}, {@code SelChImpl}'s park and {@code SelectorImpl}'s ready-key
 * processing. They live in java.base, which must first be made to read the bootstrap helpers' module, and open its
 * two packages to the agent so that it can read addresses and state at collection time.
 */
public final class SocketInstrumentation {

    private static final String ADVICE = "io.highwater.socket.advice.";
    private static final String FD = "java.io.FileDescriptor";

    /**
     * The method shapes, built on first use: Byte Buddy's matchers load a few hundred classes, which must wait until
     * a socket class actually loads, not slow down the host's start-up.
     */
    private static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> STREAM_WRITE = named("implWrite").and(takesArguments(3))
                .and(takesArgument(0, byte[].class)).and(takesArgument(1, int.class)).and(takesArgument(2, int.class))
                .and(returns(int.class));
        static final ElementMatcher.Junction<MethodDescription> SOCKET_PARK = named("park").and(takesArguments(3))
                .and(takesArgument(0, named(FD))).and(takesArgument(1, int.class)).and(takesArgument(2, long.class));
        static final ElementMatcher.Junction<MethodDescription> CHANNEL_WRITE = named("write").and(takesArguments(1))
                .and(takesArgument(0, named("java.nio.ByteBuffer"))).and(returns(int.class));
        static final ElementMatcher.Junction<MethodDescription> CHANNEL_GATHER = named("write").and(takesArguments(3))
                .and(takesArgument(0, named("java.nio.ByteBuffer[]"))).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class)).and(returns(long.class));
        static final ElementMatcher.Junction<MethodDescription> WRITE_FULLY = named("blockingWriteFully")
                .and(takesArguments(3)).and(takesArgument(0, byte[].class)).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class));
        static final ElementMatcher.Junction<MethodDescription> CHANNEL_PARK = named("park").and(takesArguments(2))
                .and(takesArgument(0, int.class)).and(takesArgument(1, long.class));
        static final ElementMatcher.Junction<MethodDescription> READY = named("processReadyEvents")
                .and(takesArguments(3)).and(takesArgument(0, int.class))
                .and(takesArgument(1, named("sun.nio.ch.SelectionKeyImpl")));

        static ElementMatcher.Junction<MethodDescription> byName(String shape) {
            switch (shape) {
                case "STREAM_WRITE":
                    return STREAM_WRITE;
                case "SOCKET_PARK":
                    return SOCKET_PARK;
                case "CHANNEL_WRITE":
                    return CHANNEL_WRITE;
                case "CHANNEL_GATHER":
                    return CHANNEL_GATHER;
                case "WRITE_FULLY":
                    return WRITE_FULLY;
                case "CHANNEL_PARK":
                    return CHANNEL_PARK;
                case "READY":
                    return READY;
                default:
                    throw new IllegalArgumentException(shape);
            }
        }
    }

    private SocketInstrumentation() {
    }

    /**
     * Lets java.base see the bootstrap helpers and the agent read java.base's socket internals; false (after one
     * log line by the caller) when this JVM does not allow it.
     */
    public static String prepareModules(Instrumentation inst) {
        try {
            Module base = Object.class.getModule();
            Module helpers = SocketWrites.class.getModule();
            Module agent = SocketInstrumentation.class.getModule();
            Map<String, Set<Module>> opens = new HashMap<>();
            opens.put("sun.nio.ch", Collections.singleton(agent));
            opens.put("java.net", Collections.singleton(agent));
            inst.redefineModule(base, Collections.singleton(helpers), Collections.emptyMap(), opens,
                    Collections.emptySet(), Collections.emptyMap());
            SocketWrites.pollOut = pollOut();
            return null;
        } catch (Throwable t) {
            return "java.base cannot be opened to the agent (" + t + ")";
        }
    }

    private static int pollOut() throws ReflectiveOperationException {
        Class<?> net = Class.forName("sun.nio.ch.Net");
        java.lang.reflect.Field f = net.getDeclaredField("POLLOUT");
        f.setAccessible(true);
        return ((Number) f.get(null)).intValue();
    }

    /** The transformation targets; each is skipped with one line when this JDK's class has another shape. */
    public static List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        List<AdviceTransformer.Target> out = new ArrayList<>();
        out.add(target("sun.nio.ch.NioSocketImpl", report, "java.net.Socket streams (NioSocketImpl)",
                new String[][] {{"STREAM_WRITE", "StreamWriteAdvice", "implWrite(byte[], int, int)"},
                                {"SOCKET_PARK", "ParkAdvice", "park(FileDescriptor, int, long)"}}));
        out.add(target("sun.nio.ch.SocketChannelImpl", report, "SocketChannel (SocketChannelImpl)",
                new String[][] {{"CHANNEL_WRITE", "ChannelWriteAdvice", "write(ByteBuffer)"},
                                {"CHANNEL_GATHER", "ChannelGatherAdvice", "write(ByteBuffer[], int, int)"},
                                {"WRITE_FULLY", "StreamWriteAdvice", null}}));
        out.add(target("sun.nio.ch.SelChImpl", report, null,
                new String[][] {{"CHANNEL_PARK", "ChannelParkAdvice", null}}));
        out.add(target("sun.nio.ch.SelectorImpl", report, "selectors (SelectorImpl)",
                new String[][] {{"READY", "SelectAdvice", "processReadyEvents(int, SelectionKeyImpl, Consumer)"}}));
        return out;
    }

    /**
     * @param methods rows of shape (a {@link Shapes} field), advice class and the label of a required method (null:
     *                optional)
     * @param label   what the report names once instrumented (null: nothing of its own to report)
     */
    private static AdviceTransformer.Target target(String className, InstrumentationReport report, String label,
                                                   String[][] methods) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return className.replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                Map<ElementMatcher<? super MethodDescription>, String> m = new LinkedHashMap<>();
                for (String[] row : methods) {
                    m.put(Shapes.byName(row[0]), ADVICE + row[1]);
                }
                return m;
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                List<String> missing = new ArrayList<>();
                for (String[] row : methods) {
                    if (row[2] != null && type.getDeclaredMethods().filter(Shapes.byName(row[0])).isEmpty()) {
                        missing.add(row[2]);
                    }
                }
                if (!missing.isEmpty()) {
                    String why = "jdk " + System.getProperty("java.version") + ": " + className + " lacks "
                            + String.join(", ", missing);
                    report.skipped(why);
                    return why;
                }
                if (label != null) {
                    report.instrumented(label);
                }
                return null;
            }
        };
    }
}

package io.highwater.instrument;

import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several integrations may need the same class (Tomcat's socket wrapper serves the servlet layer and WebSocket): the
 * transformer applies every target of a class whose check passes, and leaves out only the one whose check fails.
 */
class AdviceTransformerTest {

    /** What the advice saw; public, as the advised copy lives in a class loader (a runtime package) of its own. */
    public static final class Seen {
        public static final List<String> LIST = new ArrayList<>();
    }

    /** The class both targets advise. */
    public static final class Socket {
        public int registerWriteInterest() {
            return 7;
        }

        public int write() {
            return 1;
        }
    }

    public static final class ServletSide {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter() {
            Seen.LIST.add("servlet");
        }
    }

    public static final class WebSocketSide {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter() {
            Seen.LIST.add("websocket");
        }
    }

    private static final class Definer extends ClassLoader {
        Definer(ClassLoader parent) {
            super(parent);
        }

        Class<?> define(String name, byte[] bytes) {
            return defineClass(name, bytes, 0, bytes.length);
        }
    }

    private static AdviceTransformer.Target target(String advice, String skip, List<String> checked) {
        return new AdviceTransformer.Target() {
            @Override
            public String internalName() {
                return Socket.class.getName().replace('.', '/');
            }

            @Override
            public Map<ElementMatcher<? super MethodDescription>, String> advice() {
                return Map.of(named("registerWriteInterest"), advice);
            }

            @Override
            public String check(TypeDescription type, ClassLoader loader) {
                checked.add(advice.substring(advice.lastIndexOf('$') + 1));
                return skip;
            }
        };
    }

    private static Object advised(AdviceTransformer.Target... targets) throws Exception {
        ClassLoader loader = AdviceTransformerTest.class.getClassLoader();
        String internalName = Socket.class.getName().replace('.', '/');
        byte[] original;
        try (InputStream in = loader.getResourceAsStream(internalName + ".class")) {
            original = in.readAllBytes();
        }
        byte[] bytes = new AdviceTransformer(loader, List.of(targets)).transform(loader, internalName, null, null,
                original);
        if (bytes == null) {
            return null;
        }
        return new Definer(loader).define(Socket.class.getName(), bytes).getConstructor().newInstance();
    }

    private static int call(Object socket, String method) throws Exception {
        return (int) socket.getClass().getMethod(method).invoke(socket);
    }

    @BeforeEach
    void clear() {
        Seen.LIST.clear();
    }

    @Test
    void bothTargetsOfOneClassAreApplied() throws Exception {
        List<String> checked = new ArrayList<>();
        Object socket = advised(target(ServletSide.class.getName(), null, checked),
                target(WebSocketSide.class.getName(), null, checked));
        assertThat(checked).containsExactly("ServletSide", "WebSocketSide");
        assertThat(call(socket, "registerWriteInterest")).isEqualTo(7);
        assertThat(Seen.LIST).containsExactlyInAnyOrder("servlet", "websocket");
        Seen.LIST.clear();
        assertThat(call(socket, "write")).isEqualTo(1);
        assertThat(Seen.LIST).isEmpty();
    }

    @Test
    void aTargetWhoseCheckFailsIsLeftOutAndTheOtherStays() throws Exception {
        List<String> checked = new ArrayList<>();
        Object socket = advised(target(ServletSide.class.getName(), "field writeBlocking missing", checked),
                target(WebSocketSide.class.getName(), null, checked));
        assertThat(checked).containsExactly("ServletSide", "WebSocketSide");
        call(socket, "registerWriteInterest");
        assertThat(Seen.LIST).containsExactly("websocket");
    }

    @Test
    void noTargetLeftMeansTheClassStaysAsItWas() throws Exception {
        List<String> checked = new ArrayList<>();
        assertThat(advised(target(ServletSide.class.getName(), "old", checked),
                target(WebSocketSide.class.getName(), "old", checked))).isNull();
        assertThat(checked).hasSize(2);
    }
}

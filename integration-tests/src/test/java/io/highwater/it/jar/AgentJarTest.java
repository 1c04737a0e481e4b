package io.highwater.it.jar;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.assertj.core.api.Assertions.assertThat;

/** Opens the built agent jar and checks its layout: what is where, what is relocated, what it must carry. */
class AgentJarTest {

    private static JarFile jar;
    private static List<String> names;

    @BeforeAll
    static void open() throws IOException {
        File f = new File(System.getProperty("highwater.agent.jar"));
        assertThat(f).as("the agent jar, built by the agent module").exists();
        jar = new JarFile(f);
        names = new ArrayList<>();
        for (JarEntry e : Collections.list(jar.entries())) {
            names.add(e.getName());
        }
    }

    @Test
    void manifestMakesItAnAgentAndACommandLine() throws IOException {
        Attributes a = jar.getManifest().getMainAttributes();
        assertThat(a.getValue("Premain-Class")).isEqualTo("io.highwater.agent.launcher.AgentLauncher");
        assertThat(a.getValue("Agent-Class")).isEqualTo("io.highwater.agent.launcher.AgentLauncher");
        assertThat(a.getValue("Main-Class")).isEqualTo("io.highwater.agent.launcher.AgentLauncher");
        assertThat(a.getValue("Can-Retransform-Classes")).isEqualTo("true");
        assertThat(a.getValue("Launcher-Agent-Class")).isNull();
    }

    @Test
    void onlyTheLauncherIsVisibleToTheSystemClassLoader() {
        List<String> rootClasses = names.stream()
                .filter(n -> n.endsWith(".class") && !n.startsWith("inst/") && !n.startsWith("bootstrap/")).toList();
        assertThat(rootClasses).isNotEmpty().allMatch(n -> n.startsWith("io/highwater/agent/launcher/"));
        assertThat(names).filteredOn(n -> n.startsWith("bootstrap/") && n.endsWith(".class"))
                .isNotEmpty().allMatch(n -> n.matches("bootstrap/io/highwater/(\\w+/)?bootstrap/[^/]+\\.class"))
                .contains("bootstrap/io/highwater/bootstrap/Bridge.class");
    }

    @Test
    void dependenciesAreRelocatedUnderTheAgentsOwnFolder() {
        assertThat(names).noneMatch(n -> n.startsWith("net/bytebuddy/") || n.startsWith("io/opentelemetry/")
                || n.startsWith("inst/net/bytebuddy/") || n.startsWith("inst/io/opentelemetry/"));
        assertThat(names).anyMatch(n -> n.startsWith("inst/io/highwater/shaded/net/bytebuddy/asm/Advice"));
        assertThat(names).anyMatch(n -> n.startsWith("inst/io/highwater/shaded/io/opentelemetry/sdk/OpenTelemetrySdk"));
        assertThat(names).anyMatch(n -> n.contains("shaded/io/opentelemetry/exporter/sender/jdk/"));
        assertThat(names).noneMatch(n -> n.contains("okhttp") || n.startsWith("inst/kotlin/") || n.startsWith("inst/okio/"));
        // the SDK finds its exporters through ServiceLoader: the service files must name the relocated types
        assertThat(names).contains(
                "inst/META-INF/services/io.highwater.shaded.io.opentelemetry.sdk.common.export.HttpSenderProvider");
    }

    @Test
    void itCarriesTheLicenseAndNoticeTextsOfWhatItBundles() throws IOException {
        assertThat(names).contains("META-INF/LICENSE", "META-INF/NOTICE", "META-INF/licenses/ASM");
        String notice = new String(jar.getInputStream(jar.getEntry("META-INF/NOTICE")).readAllBytes());
        assertThat(notice).contains("Byte Buddy").contains("ASM").contains("OpenTelemetry");
    }

    @Test
    void itStaysUnderEightMegabytes() throws IOException {
        assertThat(Files.size(Path.of(jar.getName()))).isLessThanOrEqualTo(8L * 1024 * 1024);
    }

    @Test
    void bytecodeTargetsJava11() throws IOException {
        for (String n : names) {
            if (n.endsWith(".class") && n.contains("io/highwater/") && !n.contains("/shaded/")) {
                try (InputStream in = jar.getInputStream(jar.getEntry(n))) {
                    byte[] head = in.readNBytes(8);
                    int major = ((head[6] & 0xff) << 8) | (head[7] & 0xff);
                    assertThat(major).as(n).isLessThanOrEqualTo(55);
                }
            }
        }
    }

    /**
     * The SDK's java.util.logging calls are rewritten to the agent's own logger at build time; a method the SDK
     * calls that the stand-in lacks would fail with NoSuchMethodError at run time, so check every one now.
     */
    @Test
    void everyLoggingCallOfTheRelocatedSdkExistsInTheAgentsLogger() throws Exception {
        String stand = "io/highwater/agent/internal/SdkLogger";
        List<ClassFileRefs.MethodRef> calls = new ArrayList<>();
        for (String n : names) {
            if (n.startsWith("inst/") && n.endsWith(".class") && !n.equals("inst/" + stand + ".class")) {
                try (InputStream in = jar.getInputStream(jar.getEntry(n))) {
                    ClassFileRefs refs = ClassFileRefs.read(in);
                    assertThat(refs.classes).as(n + " still names java.util.logging.Logger")
                            .doesNotContain("java/util/logging/Logger", "java/util/logging/LogManager");
                    refs.methods.stream().filter(m -> m.owner().equals(stand)).forEach(calls::add);
                }
            }
        }
        assertThat(calls).as("the SDK's logging calls").isNotEmpty();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {new URL("jar:file:" + jar.getName() + "!/inst/")},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> logger = loader.loadClass(stand.replace('/', '.'));
            for (ClassFileRefs.MethodRef call : calls) {
                assertThat(hasMethod(logger, call)).as(call.toString()).isTrue();
            }
        }
    }

    /**
     * The shade plugin rewrites string constants that look like the packages it relocates: had the list of other
     * agents' packages been written as literals, the built jar would look for {@code io.highwater.shaded.io
     * .opentelemetry.javaagent.} and name OpenTelemetry's tracing handler as the application's call site. Asked of
     * the classes in the jar, as the agent runs them.
     */
    @Test
    void theFrameworkListInTheJarStillNamesOtherAgentsPackages() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {new URL("jar:file:" + jar.getName() + "!/inst/")},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> type = loader.loadClass("io.highwater.core.Frameworks");
            Object builtIn = type.getMethod("builtIn").invoke(null);
            Method isFramework = type.getMethod("isFramework", String.class);
            Method isAgent = type.getMethod("isAgent", String.class);
            for (String other : List.of(
                    "io.opentelemetry.javaagent.shaded.instrumentation.netty.v4_1.internal.server."
                            + "HttpServerResponseTracingHandler",
                    "net.bytebuddy.agent.builder.AgentBuilder$Default", "datadog.trace.agent.Tracer")) {
                assertThat((Boolean) isFramework.invoke(builtIn, other)).as(other).isTrue();
                assertThat((Boolean) isAgent.invoke(builtIn, other)).as(other).isTrue();
            }
            assertThat((Boolean) isFramework.invoke(builtIn, "com.example.Export")).isFalse();
        }
    }

    private static boolean hasMethod(Class<?> type, ClassFileRefs.MethodRef call) {
        for (Method m : type.getMethods()) {
            if (m.getName().equals(call.name()) && descriptor(m).equals(call.descriptor())
                    && Modifier.isPublic(m.getModifiers())) {
                return true;
            }
        }
        return false;
    }

    private static String descriptor(Method m) {
        StringBuilder b = new StringBuilder("(");
        for (Class<?> p : m.getParameterTypes()) {
            b.append(p.descriptorString());
        }
        return b.append(')').append(m.getReturnType().descriptorString()).toString();
    }
}

package io.highwater.it.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where the build put things, as handed over by surefire ({@code systemPropertyVariables} in the module's pom).
 */
public final class ItEnv {

    private ItEnv() {
    }

    /** {@code agent/target/highwater-agent.jar}; fails with a clear message when the agent has not been built. */
    public static Path agentJar() {
        Path jar = path("highwater.agent.jar");
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("the agent jar " + jar + " does not exist: build the agent first"
                    + " (mvn verify from the root builds it before these tests)");
        }
        return jar;
    }

    /** {@code target/test-classes}: the test apps the child JVMs run. */
    public static Path testClasses() {
        return path("highwater.it.classes");
    }

    public static Path netty41Dir() {
        return path("highwater.it.netty41");
    }

    public static Path netty42Dir() {
        return path("highwater.it.netty42");
    }

    /** The jars of the application's own OpenTelemetry SDK ({@code target/own-otel}). */
    public static Path ownOtelDir() {
        return path("highwater.it.ownotel");
    }

    /** The jars of one servlet container ({@code target/tomcat-11}, {@code target/tomcat-9}, {@code target/jetty-12}). */
    public static Path containerDir(String name) {
        return path("highwater.it." + name.replace("-", "").replace(".", ""));
    }

    public static String property(String key) {
        String v = System.getProperty(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException("system property " + key + " is not set: run the tests through Maven"
                    + " (the module's pom sets it for surefire)");
        }
        return v;
    }

    private static Path path(String key) {
        return Paths.get(property(key)).toAbsolutePath().normalize();
    }
}

package io.highwater.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the things under test are. Surefire passes each as a system property (see the pom, all based on
 * {@code ${project.basedir}/..}); the defaults are the same paths relative to this module's directory, so a test
 * also runs from an IDE whose working directory is {@code pipeline-tests/}.
 */
final class TestEnv {
    /** CI sets this after installing Prometheus and building the collector: then missing pieces fail, never skip. */
    static final String REQUIRED_VARIABLE = "HIGHWATER_E2E_REQUIRED";

    private TestEnv() {
    }

    static Path repoRoot() {
        return path("highwater.repo.root", "..");
    }

    /** {@code shared/} beside the checkout ({@code /work/shared} here; a copy beside the clone in CI). */
    static Path sharedDir() {
        return path("highwater.shared.dir", repoRoot().resolve("../shared").toString());
    }

    static Path grafanaSchemas() {
        return sharedDir().resolve("schemas/grafana");
    }

    static Path collectorDir() {
        return repoRoot().resolve("otel-collector");
    }

    static Path dashboard() {
        return collectorDir().resolve("grafana/dashboards/highwater.json");
    }

    static Path agentJar() {
        return path("highwater.agent.jar", repoRoot().resolve("agent/target/highwater-agent.jar").toString());
    }

    static Path demoJar() {
        return path("highwater.demo.jar", repoRoot().resolve("demo-app/target/highwater-demo.jar").toString());
    }

    static Path collectorBinary() {
        return path("highwater.collector.binary",
                collectorDir().resolve("build/highwater-otelcol/highwater-otelcol").toString());
    }

    /** Prometheus: the property when set, else {@code prometheus} on the PATH, else null. */
    static Path prometheusBinary() {
        String configured = System.getProperty("highwater.prometheus.binary", "");
        if (!configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        String pathVariable = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : pathVariable.split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "prometheus");
            if (Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath();
            }
        }
        return null;
    }

    static Path workDir() {
        return path("highwater.work.dir", "target/pipeline");
    }

    static Path javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    static boolean required() {
        return "true".equalsIgnoreCase(System.getenv(REQUIRED_VARIABLE));
    }

    /**
     * An optional piece of the pipeline (collector binary, Prometheus) is missing: skip with the reason, or fail when
     * {@code HIGHWATER_E2E_REQUIRED=true}.
     */
    static void requirePipelinePiece(boolean present, String message) {
        if (present) {
            return;
        }
        failIfRequired(message);
        Assumptions.abort(message + " — skipped; set " + REQUIRED_VARIABLE + "=true to make this a failure");
    }

    static void failIfRequired(String message) {
        if (required()) {
            Assertions.fail(message + " (" + REQUIRED_VARIABLE + "=true, so this fails instead of skipping)");
        }
    }

    private static Path path(String property, String fallback) {
        String value = System.getProperty(property);
        return Path.of(value == null || value.isBlank() ? fallback : value).toAbsolutePath().normalize();
    }
}

package io.highwater.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Starts the collector built in {@code otel-collector/} with its own {@code config.yaml} on free ports, and starts it
 * again on fresh ports when it exits because one of them was taken.
 *
 * <p>Why: a free port is found by binding port 0 and releasing it; between that release and the collector's own bind,
 * another process on the machine (a parallel build, another test's server) may take it, and the collector then exits
 * with {@code bind: address already in use}. That is a race of the test, not a fault of the collector, so it is retried
 * a bounded number of times ({@link #ATTEMPTS}); any other exit, or a collector that runs but never answers its health
 * check, fails at once with its log.
 */
final class CollectorLauncher {
    /** How often the collector is started before a port clash counts as a failure. */
    static final int ATTEMPTS = 5;
    static final String PORT_TAKEN = "address already in use";

    private CollectorLauncher() {
    }

    /** The five ports the collector's {@code config.yaml} takes from the environment. */
    record Ports(int otlpHttp, int otlpGrpc, int exporter, int health, int telemetry) {
        static Ports free() {
            return new Ports(ChildProcesses.freePort(), ChildProcesses.freePort(), ChildProcesses.freePort(),
                    ChildProcesses.freePort(), ChildProcesses.freePort());
        }

        Map<String, String> environment() {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("HIGHWATER_OTLP_HTTP_PORT", String.valueOf(otlpHttp));
            env.put("HIGHWATER_OTLP_GRPC_PORT", String.valueOf(otlpGrpc));
            env.put("HIGHWATER_PROMETHEUS_EXPORTER_PORT", String.valueOf(exporter));
            env.put("HIGHWATER_HEALTH_CHECK_PORT", String.valueOf(health));
            env.put("HIGHWATER_COLLECTOR_TELEMETRY_PORT", String.valueOf(telemetry));
            return env;
        }
    }

    /** A collector that answers its health check: its process, its ports, and the attempt that got there (from 1). */
    record Started(ChildProcesses.Child process, Ports ports, int attempt) {
    }

    /**
     * Starts {@code binary --config config} in {@code runDir} (log {@code collector.log}, then
     * {@code collector-2.log}, ... for further attempts) with the ports {@code ports} hands out, until its health
     * check answers within {@code timeout}.
     */
    static Started start(ChildProcesses processes, Path binary, Path config, Path runDir, Supplier<Ports> ports,
                         Duration timeout) {
        for (int attempt = 1; ; attempt++) {
            Ports p = ports.get();
            Path log = runDir.resolve(attempt == 1 ? "collector.log" : "collector-" + attempt + ".log");
            ChildProcesses.Child child = processes.start("collector", List.of(binary.toString(), "--config",
                    config.toString()), p.environment(), runDir, log, null);
            PrometheusApi health = new PrometheusApi("http://127.0.0.1:" + p.health());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                if (health.get("/") != null) {
                    return new Started(child, p, attempt);
                }
                if (!child.alive()) {
                    child.awaitOutput(Duration.ofSeconds(5));
                    String output = read(log);
                    if (output.contains(PORT_TAKEN) && attempt < ATTEMPTS) {
                        System.out.println("[pipeline] the collector found one of its ports " + p + " taken (attempt "
                                + attempt + " of " + ATTEMPTS + ", log " + log + "): starting it again on fresh ports");
                        break;
                    }
                    throw new IllegalStateException(child.describe() + " exited" + (output.contains(PORT_TAKEN)
                            ? " with a port taken, " + attempt + " times in a row" : "") + "; its log:\n" + output);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(child.describe() + " did not answer its health check on port "
                            + p.health() + " within " + timeout.toSeconds() + " s; its log:\n" + read(log));
                }
                sleep(200);
            }
        }
    }

    private static String read(Path log) {
        try {
            return Files.isRegularFile(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the collector", e);
        }
    }
}

package io.highwater.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real collector binary against a port that is taken: what happens in {@link PipelineEndToEndTest} when another
 * process binds a port between the test's pick and the collector's start, here made to happen every time. Skipped
 * without the collector binary (unless {@code HIGHWATER_E2E_REQUIRED=true}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CollectorLauncherTest {

    private static Path collector() {
        Path binary = TestEnv.collectorBinary();
        TestEnv.requirePipelinePiece(Files.isExecutable(binary),
                "no collector binary at " + binary + " (build it with otel-collector/build.sh)");
        return binary;
    }

    private static Path runDir() throws Exception {
        Files.createDirectories(TestEnv.workDir());
        return Files.createTempDirectory(TestEnv.workDir(), "launcher-");
    }

    /** The first pick has its OTLP/HTTP port held by this test; every later pick is free. */
    @Test
    void aCollectorThatFindsAPortTakenIsStartedAgainOnFreshPorts() throws Exception {
        Path binary = collector();
        Path runDir = runDir();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ChildProcesses processes = new ChildProcesses()) {
            AtomicInteger picks = new AtomicInteger();
            Supplier<CollectorLauncher.Ports> ports = () -> {
                CollectorLauncher.Ports free = CollectorLauncher.Ports.free();
                return picks.incrementAndGet() > 1 ? free : new CollectorLauncher.Ports(taken.getLocalPort(),
                        free.otlpGrpc(), free.exporter(), free.health(), free.telemetry());
            };
            CollectorLauncher.Started started = CollectorLauncher.start(processes, binary,
                    TestEnv.collectorDir().resolve("config.yaml"), runDir, ports, Duration.ofSeconds(60));

            assertThat(started.attempt()).as("the attempt that answered").isEqualTo(2);
            assertThat(Files.readString(runDir.resolve("collector.log"))).as("the first attempt's log")
                    .contains(CollectorLauncher.PORT_TAKEN).contains(String.valueOf(taken.getLocalPort()));
            assertThat(started.ports().otlpHttp()).isNotEqualTo(taken.getLocalPort());
            assertThat(started.process().alive()).isTrue();
            assertThat(new PrometheusApi("http://127.0.0.1:" + started.ports().health()).get("/"))
                    .as("the second collector's health check").isNotNull();
        }
    }

    /** A port that stays taken: the launcher gives up after its attempts, saying so, instead of looping. */
    @Test
    void aPortThatStaysTakenFailsAfterTheBoundedAttempts() throws Exception {
        Path binary = collector();
        Path runDir = runDir();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ChildProcesses processes = new ChildProcesses()) {
            AtomicInteger picks = new AtomicInteger();
            Supplier<CollectorLauncher.Ports> ports = () -> {
                picks.incrementAndGet();
                CollectorLauncher.Ports free = CollectorLauncher.Ports.free();
                return new CollectorLauncher.Ports(free.otlpHttp(), free.otlpGrpc(), taken.getLocalPort(),
                        free.health(), free.telemetry());
            };
            assertThatThrownBy(() -> CollectorLauncher.start(processes, binary,
                    TestEnv.collectorDir().resolve("config.yaml"), runDir, ports, Duration.ofSeconds(60)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("with a port taken, " + CollectorLauncher.ATTEMPTS + " times in a row");
            assertThat(picks.get()).isEqualTo(CollectorLauncher.ATTEMPTS);
        }
    }
}

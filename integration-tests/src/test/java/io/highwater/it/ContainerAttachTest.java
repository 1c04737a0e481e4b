package io.highwater.it;

import io.highwater.it.support.AgentCli;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.connectionPending;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Attach from the host into a JVM that runs as in a container: in a pid and a mount namespace of its own, with a
 * private {@code /tmp}, as another user (nobody). The JDK reaches such a JVM through {@code /proc/<pid>/root}; the agent jar
 * must lie in the target's file system and belong to its user, and the agent's reply file must be one it can write:
 * the command line copies the jar into the target's {@code /tmp} and reads the reply from there. Needs root and
 * util-linux's {@code unshare} and {@code setpriv} (as a node's root has them); skipped otherwise.
 */
class ContainerAttachTest {

    private static final int KIB = 1024;
    private static final String NOBODY = "65534";
    private static final String WRITER = "io.highwater.it.apps.NettyExportServer.writePaced";

    @Test
    void attachFromTheHostIntoAJvmWithItsOwnFileSystemAndUser() throws IOException {
        assumeTrue(isRoot() && onPath("unshare") && onPath("setpriv"), "needs root, unshare and setpriv");
        // the container's /tmp is a fresh tmpfs: a checkout under /tmp is not there for its JVM to load classes from
        assumeTrue(!ItEnv.testClasses().toAbsolutePath().startsWith("/tmp"), "the checkout is under /tmp");
        // process ids and a mount namespace of its own with a fresh /tmp, the JVM as nobody: what a container's JVM
        // looks like from its node (the JDK reaches a JVM through /proc/<pid>/root only when its pid differs inside)
        List<String> container = List.of("unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--mount",
                "--propagation", "private", "sh", "-c",
                "mount -t tmpfs tmpfs /tmp && exec setpriv --reuid=" + NOBODY + " --regid=" + NOBODY
                        + " --clear-groups \"$@\"", "sh");
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("container", NettyVariant.NETTY_42_NIO).wrapper(container)
                     .sndbuf(64 * KIB).start();
             SlowClient client = SlowClient.builder(server.port(), "/ignore-paced?rate=1000000")
                     .pauseAtBodyBytes(64 * KIB).connect()) {
            String pid = String.valueOf(jvmOf(server.child().pid()));
            Path root = Path.of("/proc", pid, "root");
            assertThat(Files.readSymbolicLink(Path.of("/proc", pid, "ns", "mnt")))
                    .as("the JVM's mount namespace").isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")));
            assertThat(Files.readAllLines(Path.of("/proc", pid, "status"))).as("its user")
                    .anyMatch(l -> l.matches("Uid:\\s+" + NOBODY + "\\s.*"));
            client.awaitPaused();

            AgentCli.Result attach = AgentCli.run("attach", pid, "otel.exporter.otlp.endpoint=" + receiver.endpoint(),
                    "otel.metric.export.interval=" + ExportServer.EXPORT_INTERVAL,
                    "otel.service.name=" + ExportServer.SERVICE_NAME);
            assertThat(attach.exitCode()).as("%s", attach).isZero();
            assertThat(attach.out()).as("%s", attach).contains("copied to /tmp/highwater-agent-").contains("(attached)");
            String copied = attach.out().replaceAll("(?s).*copied to (/tmp/\\S+\\.jar).*", "$1");
            Path inTarget = root.resolve(copied.substring(1));
            assertThat(inTarget).as("the agent jar in the target's file system").isRegularFile();
            assertThat(Files.getAttribute(inTarget, "unix:uid")).as("owned by the target's user")
                    .isEqualTo(Integer.parseInt(NOBODY));

            receiver.awaitPoint("ignored writes by " + WRITER, nettyIgnoredWrites(WRITER).and(above(0)));
            receiver.awaitPoint("the connection's pending bytes", connectionPending(client, server.port()).and(above(0)));
            AgentCli.Result status = AgentCli.run("status", pid);
            assertThat(status.exitCode()).as("%s", status).isZero();
            assertThat(status.out()).as("%s", status).contains("instrumented: netty");
            AgentCli.Result detach = AgentCli.run("detach", pid);
            assertThat(detach.exitCode()).as("%s", detach).isZero();
            assertThat(server.child().isAlive()).isTrue();
        }
    }

    /**
     * How images and the OpenTelemetry Operator's injection start an agent without touching the command line: the
     * JVM picks {@code -javaagent:} up from {@code JAVA_TOOL_OPTIONS}.
     */
    @Test
    void theAgentStartsFromJavaToolOptions() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("tool-options", NettyVariant.NETTY_41_NIO)
                     .env("JAVA_TOOL_OPTIONS", "-javaagent:" + ItEnv.agentJar() + "="
                             + ExportServer.agentArgs(receiver.endpoint()))
                     .sndbuf(64 * KIB).start();
             SlowClient client = SlowClient.builder(server.port(), "/ignore-paced?rate=1000000")
                     .pauseAtBodyBytes(64 * KIB).connect()) {
            assertThat(server.child().stderr()).as("the JVM says where its options came from")
                    .anyMatch(l -> l.startsWith("Picked up JAVA_TOOL_OPTIONS"));
            // the client stops reading: what makes the writer's later writes ignored ones
            client.awaitPaused();
            receiver.awaitPoint("ignored writes by " + WRITER, nettyIgnoredWrites(WRITER).and(above(0)));
        }
    }

    /** The JVM that {@code unshare}, started as {@code wrapper}, forked and exec'd into. */
    private static long jvmOf(long wrapper) {
        return ProcessHandle.of(wrapper).orElseThrow().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no JVM under " + wrapper)).pid();
    }

    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}

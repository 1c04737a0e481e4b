package io.highwater.it;

import io.highwater.it.support.ExportServer;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With no collector listening, the application serves normally and the agent says so once: one
 * {@code [highwater] ... export failed ...} line on stderr, not one per export interval. One server run (in
 * {@link #runWithoutCollector()}), checked by each test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CollectorDownTest {

    private static final int MIB = 1024 * 1024;

    /** The agent's failure line: its own prefix and "export failed", in any case. */
    static final Predicate<String> FAILURE_LINE = l -> l.contains("[highwater]")
            && l.toLowerCase(Locale.ROOT).contains("export failed");

    /** Anything that reads like a failed export, whoever printed it (the SDK's own log says "Failed to export"). */
    static final Predicate<String> ANY_FAILURE_LINE = l -> {
        String s = l.toLowerCase(Locale.ROOT);
        return s.contains("export failed") || s.contains("failed to export");
    };

    private ExportServer server;
    private SlowClient client;

    @BeforeAll
    void runWithoutCollector() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        server = ExportServer.builder("collector-down", NettyVariant.NETTY_41_NIO).sndbuf(64 * 1024)
                .agent(ExportServer.agentArgs("http://127.0.0.1:" + closedPort)).start();
        server.child().awaitStderr("the agent's export-failure line", FAILURE_LINE);
        // 3 MiB at 1 MB/s: over 3 s of further running, i.e. more than 6 further export intervals of 500 ms
        client = SlowClient.builder(server.port(), "/respect?bytes=" + 3 * MIB).bytesPerSecond(1_000_000).connect();
        client.awaitComplete();
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void applicationServesNormallyAndTheAgentReportsTheFailureOnce() {
        assertThat(client.bodyBytesRead()).isEqualTo(3L * MIB);
        List<String> stderr = server.child().stderr();
        assertThat(stderr.stream().filter(FAILURE_LINE).collect(Collectors.toList()))
                .as("the agent's export-failure lines on stderr").hasSize(1);
        assertThat(stderr.stream().filter(ANY_FAILURE_LINE).collect(Collectors.toList()))
                .as("lines about failed exports on stderr, from the agent or its SDK").hasSize(1);
        assertThat(server.child().stdout().stream().filter(ANY_FAILURE_LINE).collect(Collectors.toList()))
                .as("lines about failed exports on stdout").isEmpty();
        assertThat(server.child().isAlive()).isTrue();
    }

    @Test
    void theFailureNamesTheCollectorBeingDownNotTheExportersOwnQueue() {
        List<String> failures = server.child().stderr().stream().filter(FAILURE_LINE).collect(Collectors.toList());
        assertThat(failures).as("the agent's export-failure lines on stderr").hasSize(1);
        assertThat(failures.get(0)).as("the failure's cause").doesNotContain("RejectedExecutionException")
                .doesNotContain("rejected from");
    }
}

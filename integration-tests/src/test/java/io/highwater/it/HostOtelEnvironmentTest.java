package io.highwater.it;

import io.highwater.it.support.ExportServer;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A host whose environment configures OpenTelemetry for its own SDK must neither break nor silence the agent:
 * the agent's own {@code otel.*} arguments win.
 */
class HostOtelEnvironmentTest {

    private static final int MIB = 1024 * 1024;
    private static final String WRITER = "io.highwater.it.apps.NettyExportServer.writeIgnoring";

    /** An exporter the agent does not bundle, a sampler that drops everything and a protocol it does not speak. */
    @Test
    void hostExporterSamplerAndProtocolSettingsDoNotStopTheAgentsMetrics() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("host-otel-env", NettyVariant.NETTY_42_NIO)
                     .env("OTEL_METRICS_EXPORTER", "prometheus")
                     .env("OTEL_TRACES_SAMPLER", "traceidratio")
                     .env("OTEL_TRACES_SAMPLER_ARG", "0")
                     .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start()) {
            ignoreAndAwaitIgnoredWrites(server, receiver);
            assertWellFormed(receiver); // includes: every request was http/protobuf on the OTLP path
            System.out.println("spans received with a host sampler ratio of 0: " + receiver.spans().size());
        }
    }

    /**
     * Beside the OpenTelemetry Java agent, hosts commonly switch that agent's metrics off with
     * {@code OTEL_METRICS_EXPORTER=none}: meant for the host's own SDK, it must not silence highwater.
     */
    @Test
    void theHostSwitchingItsOwnMetricsOffDoesNotSilenceTheAgent() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("host-otel-none", NettyVariant.NETTY_41_NIO)
                     .env("OTEL_METRICS_EXPORTER", "none")
                     .env("OTEL_TRACES_EXPORTER", "none")
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start()) {
            ignoreAndAwaitIgnoredWrites(server, receiver);
            assertWellFormed(receiver);
        }
    }

    /** The host's endpoint, service name and export interval are its own; the agent's arguments name the agent's. */
    @Test
    void agentArgumentsWinOverTheHostsEndpointServiceNameAndInterval() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("host-otel-override", NettyVariant.NETTY_41_NIO)
                     .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + closedPort)
                     .env("OTEL_SERVICE_NAME", "host-app")
                     .env("OTEL_METRIC_EXPORT_INTERVAL", "3600000")
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start()) {
            ignoreAndAwaitIgnoredWrites(server, receiver);
            assertWellFormed(receiver); // service.name is it-netty, not host-app
            assertThat(receiver.latestResource()).doesNotContainValue("host-app");
        }
    }

    private static void ignoreAndAwaitIgnoredWrites(ExportServer server, OtlpReceiver receiver) {
        try (SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + 16 * MIB)
                .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * 1024).connect()) {
            client.awaitPaused();
            receiver.awaitPoint("ignored writes > 0 by writeIgnoring", nettyIgnoredWrites(WRITER).and(above(0)));
        }
    }
}

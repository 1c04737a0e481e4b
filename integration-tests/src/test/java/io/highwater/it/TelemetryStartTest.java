package io.highwater.it;

import io.highwater.it.support.AgentCli;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import static io.highwater.it.support.Contract.MEMORY_KIND;
import static io.highwater.it.support.Contract.MEMORY_LIMIT;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.metric;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the agent builds its OpenTelemetry SDK (README, settings, {@code highwater.telemetry.delay}): not during the
 * host's start-up but a delay after it, or at the first sign of backpressure when that comes sooner. Here the delay
 * is an hour, so everything exported comes from the SDK that the first stop signal started.
 */
class TelemetryStartTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final String WRITER = "io.highwater.it.apps.NettyExportServer.writeIgnoring";

    @Test
    void theFirstStopSignalBuildsTheSdkLongBeforeTheDelay() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("telemetry-start", NettyVariant.NETTY_41_NIO)
                     .agent(ExportServer.agentArgs(receiver.endpoint(), "telemetry.delay=1h",
                             "otel.bsp.schedule.delay=100ms")).start()) {
            String pid = String.valueOf(server.child().pid());
            AgentCli.Result before = AgentCli.run("status", pid);
            assertThat(before.exitCode()).as("%s", before).isZero();
            assertThat(before.out()).as("%s", before)
                    .contains("exporting: not started yet (starts at the first stop signal, or 3600s after start-up)");
            assertThat(receiver.metricBatchCount()).as("metric batches before any backpressure").isZero();

            try (SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + 16 * MIB).fullSpeed()
                    .pauseAtBodyBytes(64 * KIB).connect()) {
                client.awaitPaused();
                receiver.awaitPoint("ignored writes by " + WRITER, nettyIgnoredWrites(WRITER).and(above(0)));
                MetricPoint heap = receiver.awaitPoint("memory limit of kind heap",
                        metric(MEMORY_LIMIT).and(p -> p.has(MEMORY_KIND, "heap")));
                assertThat(heap.doubleValue()).as("%s", heap).isPositive();
                server.child().awaitStderr("the SDK's start line", l -> l.startsWith("[highwater] exporting metrics to"));

                AgentCli.Result after = AgentCli.run("status", pid);
                assertThat(after.out()).as("%s", after).contains(receiver.endpoint() + "/v1/metrics every 500ms");
                client.abort();
                ReceivedSpan span = receiver.awaitSpan("the episode span of the connection from port "
                        + client.localPort(), s -> s.isConnectionOf(client));
                assertThat(span.attr(io.highwater.it.support.Contract.FUNCTION)).isEqualTo(WRITER);
            }
            assertWellFormed(receiver);
        }
    }
}

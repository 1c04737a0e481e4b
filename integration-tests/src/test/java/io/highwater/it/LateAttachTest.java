package io.highwater.it;

import io.highwater.it.support.Fidelity;
import io.highwater.it.support.AgentCli;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import io.opentelemetry.proto.trace.v1.Status;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static io.highwater.it.support.Contract.CONNECTIONS_BLOCKED;
import static io.highwater.it.support.Contract.DRAIN_OLDEST_WAIT;
import static io.highwater.it.support.Contract.KERNEL_QUEUED_BYTES;
import static io.highwater.it.support.Contract.SPAN_FOUND_AT_ATTACH;
import static io.highwater.it.support.Contract.SPAN_PENDING_BYTES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.connectionPending;
import static io.highwater.it.support.Exports.metric;
import static io.highwater.it.support.Exports.netty;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attached to a JVM that is already bloating: a writer that ignored backpressure has finished, and its connection's
 * outbound buffer holds tens of MiB behind a client that stopped reading. Nothing will ever write to, or drain, that
 * connection again; the agent must find it anyway, with its pending bytes, right after the attach.
 *
 * <p>Ground truth: what the writer wrote, less what the client read and the kernel's send queue (which the agent
 * exports too), is what Netty's buffer holds, give or take Netty's per-message overhead.
 */
class LateAttachTest {

    private static final int KIB = 1024;
    private static final long MIB = 1024 * KIB;

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = NettyVariant.class, names = {"NETTY_41_EPOLL", "NETTY_42_NIO", "GRPC_SHADED_NIO"})
    void aConnectionAlreadyHoldingItsBacklogIsFoundAtAttachWithItsPendingBytes(NettyVariant variant) {
        long total = 48 * MIB;
        int chunk = 16 * KIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("late-attach-" + variant, variant).sndbuf(64 * KIB).start();
             SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + total + "&chunk=" + chunk)
                     .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            // the writer is done before the agent exists: everything it wrote is queued
            server.child().awaitStdout("the writer's end", l -> l.startsWith("WRITES " + client.localPort() + " "));
            client.awaitPaused();
            String pid = String.valueOf(server.child().pid());

            AgentCli.Result attach = AgentCli.run("attach", pid, "otel.exporter.otlp.endpoint=" + receiver.endpoint(),
                    "otel.metric.export.interval=" + ExportServer.EXPORT_INTERVAL,
                    "otel.service.name=" + ExportServer.SERVICE_NAME, "otel.bsp.schedule.delay=100ms");
            assertThat(attach.exitCode()).as("%s", attach).isZero();

            MetricPoint pending = receiver.awaitPoint("the stalled connection's pending bytes after the attach",
                    connectionPending(client, server.port()).and(above(0)));
            assertThat(pending.batch()).as("found in the first export after the attach").isLessThanOrEqualTo(2);
            MetricPoint kernel = receiver.awaitPoint("its kernel send queue", metric(KERNEL_QUEUED_BYTES)
                    .and(p -> p.has("network.peer.port", (long) client.localPort())));
            long written = total;
            long held = written - client.bodyBytesRead() - kernel.longValue();
            // Netty counts 96 bytes of overhead per queued message (one per 16 KiB write), and the head is not body
            long overhead = (total / chunk) * 96 + KIB;
            Fidelity.record("attach after the writer finished, " + variant,
                    "bytes held (written - read by the client - kernel Send-Q)", held,
                    "pending bytes of the connection, first export", pending.longValue());
            assertThat(pending.longValue()).as("pending bytes against what was written, read and sits in the kernel")
                    .isBetween(held - 2 * overhead, held + 2 * overhead);
            MetricPoint blocked = receiver.awaitPoint("the connection counted as blocked",
                    netty(CONNECTIONS_BLOCKED).and(above(0)));
            assertThat(blocked.longValue()).isEqualTo(1);
            receiver.awaitPoint("its wait running", netty(DRAIN_OLDEST_WAIT).and(above(0)));
            assertWellFormed(receiver);

            // the client gives up: the episode ends with its bytes undelivered, and says that it began before
            client.abort();
            ReceivedSpan span = receiver.awaitSpan("the episode of port " + client.localPort(),
                    s -> s.isConnectionOf(client));
            assertThat(span.attr(SPAN_FOUND_AT_ATTACH)).as("%s", span).isEqualTo(true);
            assertThat(span.statusCode()).as("%s", span).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(span.longAttr(SPAN_PENDING_BYTES)).as("%s", span).isGreaterThan(32 * MIB);
            assertThat(server.child().isAlive()).isTrue();
        }
    }
}

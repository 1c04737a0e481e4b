package io.highwater.it;

import io.highwater.it.apps.NettyExportServer;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import io.highwater.it.support.TrustingTls;
import io.opentelemetry.proto.trace.v1.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.highwater.it.support.Contract.CONNECTIONS_BLOCKED;
import static io.highwater.it.support.Contract.SPAN_PENDING_BYTES;
import static io.highwater.it.support.Contract.SPAN_WAIT_SECONDS;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertBlockedWhereverHeldBeyondTheMark;
import static io.highwater.it.support.Exports.connectionPending;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.netty;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The export the agent makes when the process exits: its numbers must agree like every other batch's. A TLS export
 * that ignores backpressure holds tens of MiB when the process is stopped; the final batch must still count that
 * connection as blocked with its wait running (it once showed the bytes with nothing blocked and no wait), and the
 * episode's span must carry the wait up to the end.
 */
class FinalExportTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    @TempDir
    Path dir;

    // the server is closed inside its try on purpose: the final export is what this test waits for
    @SuppressWarnings("try")
    @Test
    void theFinalExportStillCountsAConnectionHoldingItsBacklogAsBlocked() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("final-export", NettyVariant.NETTY_42_EPOLL).sndbuf(64 * KIB)
                     .appArg("--tls", TrustingTls.selfSignedKeyStore(dir).toString())
                     .agent(ExportServer.agentArgs(receiver.endpoint(), "spans.threshold=0ms")).start();
             SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + 32 * MIB + "&chunk=" + 16 * KIB)
                     .tls().bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            receiver.awaitPoint("the connection's backlog above 16 MiB",
                    connectionPending(client, server.port()).and(above(16 * MIB)));
            receiver.awaitPoint("a blocked connection", netty(CONNECTIONS_BLOCKED).and(above(0)));
            // batches are numbered from 0: the next one is number `before`
            int before = receiver.metricBatchCount();

            // SIGTERM: the agent's shutdown hook ends the open episode and makes a last export
            server.close();

            receiver.awaitPoint("the backlog in the final export", connectionPending(client, server.port())
                    .and(above(16 * MIB)).and(fromBatch(before)));
            assertBlockedWhereverHeldBeyondTheMark(receiver, NettyExportServer.HIGH_WATER_MARK);
            ReceivedSpan span = receiver.awaitSpan("the episode ended by the shutdown", s -> s.isConnectionOf(client));
            assertThat(span.statusCode()).as("%s", span).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(span.longAttr(SPAN_PENDING_BYTES)).as("%s", span).isGreaterThan(16 * MIB);
            assertThat(span.doubleAttr(SPAN_WAIT_SECONDS)).as("the wait, still running at the end, up to the end")
                    .isPositive().isLessThanOrEqualTo(span.durationNanos() / 1e9);
        }
    }
}

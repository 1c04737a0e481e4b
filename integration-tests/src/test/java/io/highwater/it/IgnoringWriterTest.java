package io.highwater.it;

import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PENDING_BYTES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertContractShapes;
import static io.highwater.it.support.Exports.assertSocketLayerQuiet;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.connectionPending;
import static io.highwater.it.support.Exports.metric;
import static io.highwater.it.support.Exports.nettyIgnoredBytes;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bug: a writer that keeps writing while Netty's channel is unwritable, on the event loop ({@code /ignore})
 * and from an application thread ({@code /ignore-offloop}), on Netty 4.1 and 4.2 with NIO and epoll, and on the copy
 * of Netty that grpc-netty-shaded relocated under {@code io.grpc.netty.shaded}.
 *
 * <p>The server writes 16 MiB in 16 KiB writes at once; the client reads 64 KiB and then stops reading, so all but
 * what the kernel buffers (about 3 MB on loopback with auto-tuned buffers) stays in Netty's outbound buffer. The
 * agent must count the ignored writes with the application method that made them, count their bytes, and show the
 * backlog in the pending gauges, for the process and for this very connection.
 */
class IgnoringWriterTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final long TOTAL = 16L * MIB;
    private static final int CHUNK = 16 * KIB;

    enum Writer {
        EVENT_LOOP("/ignore", "writeIgnoring"),
        APP_THREAD("/ignore-offloop", "writeIgnoringFromAppThread");

        final String path;
        final String method;

        Writer(String path, String method) {
            this.path = path;
            this.method = method;
        }

        /** The call site on {@code variant}: the relocated copy runs its own build of the export server. */
        String function(NettyVariant variant) {
            return variant.exportServerClass() + "." + method;
        }
    }

    static Stream<Arguments> cases() {
        return Arrays.stream(NettyVariant.values())
                .flatMap(v -> Arrays.stream(Writer.values()).map(w -> Arguments.of(v, w)));
    }

    @ParameterizedTest(name = "{0}, writer on {1}")
    @MethodSource("cases")
    void ignoredWritesAreCountedWithTheirCallSiteAndTheBacklogIsVisible(NettyVariant variant, Writer writer) {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("ignore-" + writer + "-" + variant.name(), variant)
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start();
             SlowClient client = SlowClient.builder(server.port(), writer.path + "?bytes=" + TOTAL + "&chunk=" + CHUNK)
                     .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            client.awaitPaused();

            MetricPoint writes = receiver.awaitPoint("ignored writes > 0 by " + writer.function(variant),
                    nettyIgnoredWrites(writer.function(variant)).and(above(0)));
            MetricPoint bytes = receiver.awaitPoint("ignored bytes > 0", nettyIgnoredBytes().and(above(0)));
            MetricPoint pending = receiver.awaitPoint("process pending bytes > 8 MiB",
                    metric(PENDING_BYTES).and(p -> p.has(LAYER, NETTY)).and(above(8 * MIB)));
            MetricPoint connection = receiver.awaitPoint("pending bytes > 8 MiB of the connection from port "
                    + client.localPort(), connectionPending(client, server.port()).and(above(8 * MIB)));

            assertWellFormed(receiver);
            assertContractShapes(receiver);
            assertSocketLayerQuiet(receiver);
            // upper bounds that hold whatever the tolerance: never more than the application wrote
            long appWrites = TOTAL / CHUNK + 2; // the chunks, the response head, the empty last content
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> true)).as("all ignored writes")
                    .isBetween(writes.longValue(), appWrites);
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> true)).as("all ignored bytes")
                    .isBetween(bytes.longValue(), TOTAL + KIB);
            // pending sizes include Netty's per-entry overhead (96 B for each of ~1000 entries): 1 MiB of slack
            assertThat(pending.doubleValue()).as("process pending bytes").isLessThanOrEqualTo(TOTAL + MIB);
            assertThat(connection.doubleValue()).as("connection pending bytes").isLessThanOrEqualTo(TOTAL + MIB);
            assertThat(server.child().isAlive()).isTrue();
        }
    }
}

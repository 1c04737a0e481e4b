package io.highwater.it;

import io.highwater.it.apps.NettyExportServer;
import io.highwater.it.support.Fidelity;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import io.highwater.it.support.TrustingTls;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertBlockedWhereverHeldBeyondTheMark;
import static io.highwater.it.support.Exports.assertContractShapes;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.connectionPending;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static io.highwater.it.support.Exports.valueIs;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One judgement per application write, in the shapes production puts around a writer: chunked transfer encoding
 * (the codec frames every write with a chunk header and a trailing CRLF), TLS (the {@code SslHandler} cuts each
 * write into 16 KiB records at flush), and compression (the compressor turns each write into other buffers). What
 * those handlers make of a write must never add ignored writes.
 *
 * <p>The ground truth is the application's own count: the writers read Netty's pending bytes just before each
 * content write and count the writes made beyond the agent's default tolerance (twice the high-water mark), and print
 * it. An honest writer (1 MiB writes, only while the channel is writable) drives its channel far above the mark with
 * each write and must show zero; an ignoring writer must show exactly its own count, with its method as call site.
 */
class OneJudgementPerWriteTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final String APP = "io.highwater.it.apps.NettyExportServer.";
    private static final Pattern WRITES = Pattern.compile("WRITES (\\d+) total=(\\d+) beyond=(\\d+)");

    enum Shape {
        CHUNKED("chunked=true", false, false),
        TLS("", true, false),
        TLS_CHUNKED("chunked=true", true, false),
        COMPRESSED("chunked=true&random=true", false, true);

        final String query;
        final boolean tls;
        final boolean compress;

        Shape(String query, boolean tls, boolean compress) {
            this.query = query;
            this.tls = tls;
            this.compress = compress;
        }
    }

    @TempDir
    Path dir;

    private ExportServer start(Shape shape, OtlpReceiver receiver) {
        List<String> args = new ArrayList<>();
        if (shape.tls) {
            args.add("--tls");
            args.add(TrustingTls.selfSignedKeyStore(dir).toString());
        }
        if (shape.compress) {
            args.add("--compress");
        }
        return ExportServer.builder("shape-" + shape, NettyVariant.NETTY_42_NIO).sndbuf(64 * KIB)
                .appArg(args.toArray(new String[0]))
                .agent(ExportServer.agentArgs(receiver.endpoint())).start();
    }

    private static SlowClient.Builder client(Shape shape, int port, String path) {
        SlowClient.Builder b = SlowClient.builder(port, path + (shape.query.isEmpty() ? "" : "&" + shape.query));
        if (shape.tls) {
            b.tls();
        }
        if (shape.compress) {
            b.header("Accept-Encoding", "gzip");
        }
        return b;
    }

    /** The application's count for the connection from {@code clientPort}: {total, beyond}. */
    private static long[] groundTruth(ExportServer server, int clientPort) {
        String line = server.child().awaitStdout("the writer's own count for port " + clientPort,
                l -> l.startsWith("WRITES " + clientPort + " "));
        Matcher m = WRITES.matcher(line);
        assertThat(m.matches()).as(line).isTrue();
        return new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))};
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Shape.class)
    void anHonestWriterOfLargeWritesHasNoIgnoredWritesWhateverTheHandlersMakeOfThem(Shape shape) {
        long total = 12L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = start(shape, receiver);
             SlowClient client = client(shape, server.port(), "/respect?bytes=" + total + "&chunk=" + MIB)
                     .bytesPerSecond(4_000_000).pauseAtBodyBytes(MIB).connect()) {
            client.awaitPaused();
            // the honest writer's 1 MiB write took the channel far past its high-water mark: the agent sees the
            // pressure in this shape (else the zero below would prove nothing)
            receiver.awaitPoint("the paused connection's backlog above 512 KiB",
                    connectionPending(client, server.port()).and(above(512 * KIB)));
            client.resume();
            long[] truth = groundTruth(server, client.localPort());
            client.awaitEnd();
            receiver.awaitFurtherMetricBatches(2);

            Fidelity.record("honest 1 MiB writes, Netty behind " + shape,
                    "the writer's own writes beyond the tolerance", truth[1], "ignored writes",
                    receiver.counterTotal(IGNORED_WRITES, p -> true));
            assertThat(truth[0]).as("content writes").isEqualTo(12);
            assertThat(truth[1]).as("the honest writer's own count of writes beyond the tolerance").isZero();
            assertWellFormed(receiver);
            assertContractShapes(receiver);
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> true))
                    .as("ignored writes of an honest writer behind %s (ignored bytes: %d)", shape,
                            receiver.counterTotal(IGNORED_BYTES, p -> true))
                    .isZero();
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> true)).isZero();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Shape.class)
    void anIgnoringWritersWritesAreCountedOnceEachWithItsCallSite(Shape shape) {
        long total = 16L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = start(shape, receiver);
             SlowClient client = client(shape, server.port(), "/ignore?bytes=" + total + "&chunk=" + 16 * KIB)
                     .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            long[] truth = groundTruth(server, client.localPort());
            assertThat(truth[0]).as("content writes").isEqualTo(total / (16 * KIB));
            assertThat(truth[1]).as("the writer's own count of writes beyond the tolerance").isGreaterThan(100);

            MetricPoint writes = receiver.awaitPoint("ignored writes = the writer's own count, " + truth[1]
                    + ", by writeIgnoring", nettyIgnoredWrites(APP + "writeIgnoring").and(valueIs(truth[1])));
            Fidelity.record("ignoring 16 KiB writes, Netty behind " + shape,
                    "the writer's own writes beyond the tolerance", truth[1], "ignored writes, any call site",
                    receiver.counterTotal(IGNORED_WRITES, p -> true));
            assertThat(receiver.counterTotal(IGNORED_WRITES, p -> true)).as("every ignored write, any call site")
                    .isEqualTo(truth[1]);
            assertThat(receiver.counterSumBy(IGNORED_WRITES, FUNCTION).keySet()).as("call sites")
                    .containsExactly(APP + "writeIgnoring");
            // each counted write is one 16 KiB content write, whatever the handlers made of it
            assertThat(receiver.counterTotal(IGNORED_BYTES, p -> true)).as("ignored bytes")
                    .isEqualTo(truth[1] * 16 * KIB);
            assertThat(writes.longValue()).isEqualTo(truth[1]);
            // the backlog stays: later batches must still count the connection as blocked, with its wait running
            receiver.awaitFurtherMetricBatches(3);
            assertBlockedWhereverHeldBeyondTheMark(receiver, NettyExportServer.HIGH_WATER_MARK);
            assertWellFormed(receiver);
            assertContractShapes(receiver);
        }
    }
}

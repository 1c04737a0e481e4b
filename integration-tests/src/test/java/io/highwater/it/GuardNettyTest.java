package io.highwater.it;

import io.highwater.it.support.AgentCli;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.highwater.it.support.Contract.CONNECTIONS_BLOCKED;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Exports.assertWellFormed;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard (issue 20, docs/guard.md) on Netty, with real slow clients and the real agent jar. The ground truth is
 * the application's own: the heap writer of {@code /ignore-heap} prints the most Netty's {@code
 * totalPendingWriteBytes} showed before one of its writes, or {@code APP-OUT-OF-MEMORY} when the heap ran out; and
 * without the guard the very same run dies of it.
 */
class GuardNettyTest {

    static final String GUARD_ACTIONS = "backpressure.guard.actions";
    static final String GUARD_ACTION = "backpressure.guard.action";
    static final String GUARD_REASON = "backpressure.guard.reason";
    static final String GUARD_ENFORCED = "backpressure.guard.enforced";
    private static final int KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long LIMIT = 32 * MIB;
    /** One write of the heap writer as Netty counts it: 64 KiB of content and its per-entry overhead. */
    private static final long ONE_WRITE = 64 * KIB + 256;
    /** 40 MB/s into a 256 MiB heap: out of memory within seconds when nothing stops it. */
    private static final String HEAP_WRITER = "/ignore-heap?rate=40000000";

    private static ExportServer heapServer(String name, OtlpReceiver receiver, String... guard) {
        return ExportServer.builder(name, NettyVariant.NETTY_41_NIO)
                // the pile-up on the heap: an NIO channel would copy heap buffers into pooled direct ones otherwise
                .jvmArg("-Xmx256m", "-XX:MaxDirectMemorySize=256m", "-Dio.netty.noPreferDirect=true",
                        "-Dio.netty.allocator.type=unpooled")
                .agent(ExportServer.agentArgs(receiver.endpoint(), withDelay(guard))).start();
    }

    /** The SDK at once: the heap is full within seconds, and the export must have started before. */
    static String[] withDelay(String... settings) {
        List<String> all = new ArrayList<>(Arrays.asList(settings));
        all.add("telemetry.delay=0");
        return all.toArray(new String[0]);
    }

    private static SlowClient slowClient(ExportServer server, String path) {
        return SlowClient.builder(server.port(), path).bytesPerSecond(200_000).connect();
    }

    static List<MetricPoint> guardPoints(OtlpReceiver receiver) {
        return receiver.counterPoints(GUARD_ACTIONS);
    }

    private static long heapWriterPendingMax(ChildJvm child) {
        String line = child.awaitStdoutValue("HEAP-WRITER-STOPPED");
        return Long.parseLong(line.split(" ")[0].substring("pendingMax=".length()));
    }

    private static boolean ranOutOfMemory(ChildJvm child) {
        return child.stderr().stream().anyMatch(l -> l.equals("APP-OUT-OF-MEMORY") || l.contains("OutOfMemoryError"));
    }

    @Test
    void enforceClosesTheConnectionAtTheLimitAndTheServiceLives() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = heapServer("guard-enforce", receiver, "guard.mode=enforce",
                     "guard.connection.max=32MiB");
             SlowClient client = slowClient(server, HEAP_WRITER)) {
            ChildJvm child = server.child();
            child.awaitStderr("the start-up line with the guard", l -> l.contains("started in")
                    && l.contains("guard enforce (action=close, connection.max=32MiB, stall=5m, memory.reserve=0.1)"));

            long pendingMax = heapWriterPendingMax(child);
            client.awaitEnd();
            assertThat(pendingMax).as("the most Netty held before a write (the application's own reading)")
                    .isGreaterThan(LIMIT - 2 * ONE_WRITE).isLessThanOrEqualTo(LIMIT + ONE_WRITE);
            assertThat(client.failure()).as("the client sees an ordinary close, not a reset").isNull();
            assertThat(client.contentLength()).isEqualTo(1024 * MIB);
            assertThat(client.bodyBytesRead()).as("the body was cut short").isLessThan(client.contentLength());

            MetricPoint action = receiver.awaitPoint("one enforced connection_limit close",
                    p -> p.metric().equals(GUARD_ACTIONS) && p.longValue() == 1);
            assertThat(action.attr(LAYER)).isEqualTo(NETTY);
            assertThat(action.attr(GUARD_ACTION)).isEqualTo("close");
            assertThat(action.attr(GUARD_REASON)).isEqualTo("connection_limit");
            assertThat(action.attr(GUARD_ENFORCED)).isEqualTo(true);
            assertThat(child.stderr()).as("the guard's line names the peer, the call site and the setting")
                    .anyMatch(l -> l.contains("guard: closed the connection 127.0.0.1:" + client.localPort())
                            && l.contains("NettyExportServer.writeHeapIgnoring")
                            && l.contains("highwater.guard.connection.max=32MiB"));

            // the service lives: another request is answered in full
            try (SlowClient next = SlowClient.builder(server.port(), "/single?bytes=100000").fullSpeed().connect()) {
                next.awaitComplete();
            }
            receiver.awaitFurtherMetricBatches(2);
            assertThat(ranOutOfMemory(child)).as("out of memory\n%s", child.transcript()).isFalse();
            assertThat(child.isAlive()).isTrue();
            List<MetricPoint> all = guardPoints(receiver);
            assertThat(all).as("one connection, one action").allSatisfy(p -> assertThat(p.longValue()).isEqualTo(1));
            assertThat(all.stream().map(MetricPoint::seriesKey).distinct().count()).isEqualTo(1);
            assertWellFormed(receiver);
        }
    }

    @Test
    void withoutTheGuardTheSameRunRunsOutOfMemory() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = heapServer("guard-none", receiver);
             SlowClient client = slowClient(server, HEAP_WRITER)) {
            ChildJvm child = server.child();
            child.awaitStderr("the application running out of memory", l -> l.equals("APP-OUT-OF-MEMORY"));
            assertThat(client.isComplete()).as("the slow client never got the whole export").isFalse();
            assertThat(child.stderr()).as("no guard in the start-up line").noneMatch(l -> l.contains("guard "));
            assertThat(guardPoints(receiver)).as("no guard, no guard metric").isEmpty();
        }
    }

    @Test
    void observeCountsWhatEnforceWouldDoAndChangesNothing() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = heapServer("guard-observe", receiver, "guard.mode=observe",
                     "guard.connection.max=32MiB");
             SlowClient client = slowClient(server, HEAP_WRITER)) {
            ChildJvm child = server.child();
            MetricPoint action = receiver.awaitPoint("one observed connection_limit close",
                    p -> p.metric().equals(GUARD_ACTIONS) && p.longValue() == 1);
            assertThat(action.attr(GUARD_REASON)).isEqualTo("connection_limit");
            assertThat(action.attr(GUARD_ENFORCED)).isEqualTo(false);
            // as without the guard: the writer goes on until the heap is full
            child.awaitStderr("the application running out of memory", l -> l.equals("APP-OUT-OF-MEMORY"));
            assertThat(child.stdout()).as("the connection was not closed").noneMatch(l -> l.startsWith("HEAP-WRITER"));
            assertThat(child.stderr()).anyMatch(l -> l.contains("guard: observe: would close the connection"));
            assertThat(client.state()).isNotEqualTo(SlowClient.State.DONE);
        }
    }

    @Test
    void respectingWritersAtTheDefaultsAreLeftAlone() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("guard-respect", NettyVariant.NETTY_41_NIO).sndbuf(64 * KIB)
                     .agent(ExportServer.agentArgs(receiver.endpoint(), withDelay("guard.mode=enforce"))).start()) {
            List<SlowClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    clients.add(SlowClient.builder(server.port(), "/respect?bytes=" + 2 * MIB)
                            .bytesPerSecond(1_000_000).connect());
                }
                // they are under backpressure: the agent holds them blocked
                receiver.awaitPoint("respecting connections blocked", p -> p.metric().equals(CONNECTIONS_BLOCKED)
                        && NETTY.equals(p.attr(LAYER)) && p.doubleValue() >= 1);
                for (SlowClient c : clients) {
                    c.awaitComplete();
                }
            } finally {
                clients.forEach(SlowClient::close);
            }
            receiver.awaitFurtherMetricBatches(2);
            ChildJvm child = server.child();
            assertThat(child.stdout().stream().filter(l -> l.startsWith("WRITES "))).as("the writers' own counts")
                    .hasSize(3).allSatisfy(l -> assertThat(l).endsWith(" beyond=0"));
            assertThat(guardPoints(receiver)).as("no guard action").isEmpty();
            assertThat(child.stderr()).noneMatch(l -> l.contains("guard: "));
        }
    }

    @Test
    void aRespectingWriterWhoseClientStopsReadingIsClosedAfterTheStall() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("guard-stall", NettyVariant.NETTY_41_NIO).sndbuf(64 * KIB)
                     .agent(ExportServer.agentArgs(receiver.endpoint(), withDelay("guard.mode=enforce",
                             "guard.stall=2s", "stall.threshold=1s", "otel.bsp.schedule.delay=100ms"))).start();
             SlowClient client = SlowClient.builder(server.port(), "/respect?bytes=" + 16 * MIB)
                     .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            client.awaitPaused();
            MetricPoint action = receiver.awaitPoint("an enforced stall close",
                    p -> p.metric().equals(GUARD_ACTIONS) && p.longValue() == 1);
            assertThat(action.attr(GUARD_REASON)).isEqualTo("stall");
            assertThat(action.attr(GUARD_ACTION)).isEqualTo("close");
            assertThat(action.attr(GUARD_ENFORCED)).isEqualTo(true);
            assertThat(server.child().stderr()).anyMatch(l -> l.contains("guard: closed the connection 127.0.0.1:"
                    + client.localPort()) && l.contains("highwater.guard.stall=2s"));
            // what the kernel still held arrives, then the server's close
            client.resume();
            client.awaitEnd();
            assertThat(client.failure()).as("an ordinary close").isNull();
            assertThat(client.bodyBytesRead()).isLessThan(16 * MIB);
            // the episode span says what the guard did, when
            ReceivedSpan span = receiver.awaitSpan("the episode span of the closed connection",
                    sp -> sp.name().equals("backpressure netty") && sp.has(PEER_PORT, (long) client.localPort()));
            assertThat(span.eventNames()).contains("guard");
            Map<String, Object> event = span.span().getEventsList().stream().filter(e -> e.getName().equals("guard"))
                    .map(e -> MetricPoint.toMap(e.getAttributesList())).findFirst().orElseThrow();
            assertThat(event).containsEntry(GUARD_ACTION, "close").containsEntry(GUARD_REASON, "stall")
                    .containsEntry(GUARD_ENFORCED, true);
            assertThat((Long) event.get("backpressure.pending.bytes")).isPositive();
            receiver.awaitFurtherMetricBatches(1);
            assertThat(guardPoints(receiver)).as("only the stall fired: the writer respected backpressure")
                    .allSatisfy(p -> assertThat(p.attr(GUARD_REASON)).isEqualTo("stall"));
        }
    }

    /** Ignoring writers into pooled direct memory at these rates (bytes per second), heaviest first. */
    private static final long[] DIRECT_RATES = {12_000_000, 6_000_000, 3_000_000, 1_500_000};

    private static ExportServer directServer(String name, OtlpReceiver receiver, String... guard) {
        return ExportServer.builder(name, NettyVariant.NETTY_41_NIO).sndbuf(64 * KIB)
                // unpooled: a closed connection's buffers return to the JVM at once; a pooled allocator keeps them in
                // the arena of the connection's event loop, where only that loop's connections can use them again
                .jvmArg("-XX:MaxDirectMemorySize=64m", "-Dio.netty.allocator.type=unpooled")
                .agent(ExportServer.agentArgs(receiver.endpoint(), withDelay(guard))).start();
    }

    private static List<SlowClient> directWriters(ExportServer server) {
        List<SlowClient> clients = new ArrayList<>();
        for (long rate : DIRECT_RATES) {
            clients.add(SlowClient.builder(server.port(), "/ignore-paced?rate=" + rate).bytesPerSecond(200_000)
                    .connect());
        }
        return clients;
    }

    private static boolean outOfDirectMemory(ChildJvm child) {
        return child.stderr().stream().anyMatch(l -> l.startsWith("APP-OUT-OF-DIRECT-MEMORY")
                || l.contains("OutOfMemoryError"));
    }

    @Test
    void memoryShortClosesTheHeaviestFirstAndTheProcessLives() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = directServer("guard-memory", receiver, "guard.mode=enforce",
                     "guard.connection.max=1GiB", "guard.memory.reserve=0.25", "stall.threshold=1s")) {
            ChildJvm child = server.child();
            List<SlowClient> clients = directWriters(server);
            try {
                String first = child.awaitStderr("the guard's first memory close",
                        l -> l.contains("guard: closed the connection") && l.contains("held the most memory"));
                assertThat(first).as("the fastest writer holds the most").contains("127.0.0.1:"
                        + clients.get(0).localPort() + " ").contains("highwater.guard.memory.reserve=0.25 (direct:");
                clients.get(0).awaitEnd();
                assertThat(clients.get(0).failure()).as("an ordinary close").isNull();
                MetricPoint action = receiver.awaitPoint("an enforced memory close",
                        p -> p.metric().equals(GUARD_ACTIONS) && "memory".equals(p.attr(GUARD_REASON)));
                assertThat(action.attr(GUARD_ENFORCED)).isEqualTo(true);
                // the process lives: a new request is answered in full
                try (SlowClient next = SlowClient.builder(server.port(), "/single?bytes=100000").fullSpeed()
                        .connect()) {
                    next.awaitComplete();
                }
                assertThat(outOfDirectMemory(child)).as("out of direct memory\n%s", child.transcript()).isFalse();
                // in the order of what they held: a slower writer is never closed before a faster one
                List<Integer> closed = new ArrayList<>();
                for (String l : child.stderr()) {
                    if (l.contains("guard: closed the connection") && l.contains("held the most memory")) {
                        for (int i = 0; i < clients.size(); i++) {
                            if (l.contains("127.0.0.1:" + clients.get(i).localPort() + " ")) {
                                closed.add(i);
                            }
                        }
                    }
                }
                assertThat(closed).as("clients closed for memory, by rate index").isSorted();
                assertThat(closed).as("the slowest writer is left alone").doesNotContain(DIRECT_RATES.length - 1);
            } finally {
                clients.forEach(SlowClient::close);
            }
        }
    }

    @Test
    void withoutTheGuardTheSameWritersRunOutOfDirectMemory() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = directServer("guard-memory-none", receiver)) {
            List<SlowClient> clients = directWriters(server);
            try {
                server.child().awaitStderr("out of direct memory", l -> l.startsWith("APP-OUT-OF-DIRECT-MEMORY"));
            } finally {
                clients.forEach(SlowClient::close);
            }
        }
    }

    @Test
    void atAttachTheGuardClosesAConnectionAlreadyBeyondTheLimitOnItsTimer() {
        long total = 48 * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("guard-attach", NettyVariant.NETTY_41_NIO).sndbuf(64 * KIB)
                     .start();
             SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + total + "&chunk=" + 16 * KIB)
                     .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            // the writer is done before the agent exists: nearly everything it wrote is queued in Netty
            server.child().awaitStdout("the writer's end", l -> l.startsWith("WRITES " + client.localPort() + " "));
            client.awaitPaused();
            String pid = String.valueOf(server.child().pid());
            AgentCli.Result attach = AgentCli.run("attach", pid, "otel.exporter.otlp.endpoint=" + receiver.endpoint(),
                    "otel.metric.export.interval=" + ExportServer.EXPORT_INTERVAL,
                    "otel.service.name=" + ExportServer.SERVICE_NAME, "guard.mode=enforce",
                    "guard.connection.max=8MiB");
            assertThat(attach.exitCode()).as("%s", attach).isZero();
            assertThat(attach.out()).contains("guard enforce (action=close, connection.max=8MiB");

            // no write comes any more: the agent's timer finds it beyond the limit
            MetricPoint action = receiver.awaitPoint("an enforced connection_limit close",
                    p -> p.metric().equals(GUARD_ACTIONS) && p.longValue() == 1);
            assertThat(action.attr(GUARD_REASON)).isEqualTo("connection_limit");
            AgentCli.Result status = AgentCli.run("status", pid);
            assertThat(status.out()).contains("guard enforce (action=close, connection.max=8MiB, stall=5m,"
                    + " memory.reserve=0.1)");
            client.resume();
            client.awaitEnd();
            assertThat(client.failure()).as("an ordinary close").isNull();
            assertThat(client.bodyBytesRead()).as("cut short").isLessThan(total);
        }
    }

    @Test
    void failRefusesTheWritesBeyondTheLimitAndTheConnectionStaysOpen() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = heapServer("guard-fail", receiver, "guard.mode=enforce", "guard.action=fail",
                     "guard.connection.max=32MiB")) {
            ChildJvm child = server.child();
            SlowClient client = slowClient(server, HEAP_WRITER);
            try {
                String failed = child.awaitStdoutValue("HEAP-WRITE-FAILED");
                assertThat(failed).as("what the application's listener sees").contains("highwater guard: write refused")
                        .contains("highwater.guard.connection.max=32MiB").contains("highwater.guard.action=fail");
                MetricPoint action = receiver.awaitPoint("one enforced connection_limit fail",
                        p -> p.metric().equals(GUARD_ACTIONS) && p.longValue() == 1);
                assertThat(action.attr(GUARD_ACTION)).isEqualTo("fail");
                assertThat(action.attr(GUARD_REASON)).isEqualTo("connection_limit");
                // the writer goes on (the connection is open) at 40 MB/s; what it writes is refused, not queued:
                // longer than the run without the guard takes to run out of memory
                receiver.awaitFurtherMetricBatches(16);
                assertThat(client.state()).as("the connection is still open").isNotEqualTo(SlowClient.State.DONE);
                assertThat(ranOutOfMemory(child)).as("out of memory\n%s", child.transcript()).isFalse();
            } finally {
                client.close();
            }
            long pendingMax = heapWriterPendingMax(child);
            assertThat(pendingMax).as("the most Netty held before a write").isLessThanOrEqualTo(LIMIT + ONE_WRITE);
        }
    }
}

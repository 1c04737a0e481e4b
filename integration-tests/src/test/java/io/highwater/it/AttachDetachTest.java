package io.highwater.it;

import io.highwater.it.support.AgentCli;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.Http;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import io.opentelemetry.proto.trace.v1.Status;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static io.highwater.it.support.Contract.SERVICE_INSTANCE_ID;
import static io.highwater.it.support.Contract.SPAN_PENDING_BYTES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.connectionPending;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent jar as a command line (README, "Attach to a running service"): attach to a server started without
 * the agent while a bug is writing into a slow connection, see that connection reported, detach (nothing exported
 * any more, the app unharmed, the agent's threads gone), attach again, and the refusals: a second attach, a pid
 * that does not exist, a missing pid. Exit codes: 0 done, 1 failed, 2 usage, 3 nothing to do.
 *
 * <p>On JDK 21+ the target prints "WARNING: A Java agent has been loaded dynamically ..." on attach: expected.
 */
class AttachDetachTest {

    private static final int KIB = 1024;
    private static final String WRITER = "io.highwater.it.apps.NettyExportServer.writePaced";
    /** The agent's threads (its timer, final export) and those of its SDK (metric reader, span processor). */
    private static final List<String> AGENT_THREADS = List.of("highwater", "PeriodicMetricReader",
            "BatchSpanProcessor");

    @Test
    void attachReportsAnOpenConnectionDetachLeavesNothingRunningAndAttachWorksAgain() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("attach", NettyVariant.NETTY_42_NIO).sndbuf(64 * KIB).start();
             // the bug is writing 1 MB/s into this connection from before the attach until the end of the test
             SlowClient client = SlowClient.builder(server.port(), "/ignore-paced?rate=1000000")
                     .pauseAtBodyBytes(64 * KIB).connect()) {
            String pid = String.valueOf(server.child().pid());
            client.awaitPaused();
            assertThat(AgentCli.run("status", pid).exitCode()).as("status before any attach").isEqualTo(3);

            // ---- attach
            AgentCli.Result attach = attach(pid, receiver);
            assertThat(attach.exitCode()).as("%s", attach).isZero();
            assertThat(attach.out()).as("the agent's start-up line").contains("started in").contains("(attached)");
            server.child().awaitStderr("the agent's start-up line in the target", l -> l.startsWith("[highwater]")
                    && l.contains("started in"));

            // the connection was open and under pressure before the attach: batches 1 and 2 report it
            receiver.awaitMetricBatches(3);
            for (int batch = 1; batch <= 2; batch++) {
                int b = batch;
                assertThat(receiver.points()).as("ignored writes by %s in batch %d", WRITER, b)
                        .anyMatch(nettyIgnoredWrites(WRITER).and(above(0)).and(p -> p.batch() == b));
                assertThat(receiver.points()).as("pending bytes of the connection from port %d in batch %d",
                        client.localPort(), b)
                        .anyMatch(connectionPending(client, server.port()).and(above(0)).and(p -> p.batch() == b));
            }
            assertWellFormed(receiver);

            AgentCli.Result status = AgentCli.run("status", pid);
            assertThat(status.exitCode()).as("%s", status).isZero();
            assertThat(status.out()).as("%s", status).contains("highwater " + ItEnv.property("highwater.it.agent.version"))
                    .contains("active since").contains("instrumented: netty")
                    .contains(receiver.endpoint() + "/v1/metrics every 500ms");
            AgentCli.Result list = AgentCli.run("list");
            assertThat(list.exitCode()).as("%s", list).isZero();
            assertThat(listLine(list, pid)).as("%s", list)
                    .contains(ItEnv.property("highwater.it.agent.version"));

            // ---- a second attach changes nothing
            AgentCli.Result twice = attach(pid, receiver);
            assertThat(twice.exitCode()).as("%s", twice).isEqualTo(3);
            assertThat(twice.all()).as("%s", twice).contains("already active");
            int afterTwice = receiver.metricBatchCount();
            receiver.awaitMetricBatches(afterTwice + 4);
            assertOneAgentPerBatch(receiver, 0);

            // ---- detach
            AgentCli.Result detach = AgentCli.run("detach", pid);
            assertThat(detach.exitCode()).as("%s", detach).isZero();
            assertThat(detach.out()).as("%s", detach).contains("detached");
            int exportedBeforeDetach = receiver.metricBatchCount();
            // the open episode ends with the detach and reaches the final export
            ReceivedSpan span = receiver.awaitSpan("the open episode of port " + client.localPort()
                    + ", ended by the detach", s -> s.isConnectionOf(client));
            assertThat(span.statusCode()).as("%s", span).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
            assertThat(span.longAttr(SPAN_PENDING_BYTES)).as("%s", span).isPositive();

            // the app still serves, and none of the agent's threads is left
            try (SlowClient fresh = SlowClient.builder(server.port(), "/single?bytes=" + 64 * KIB).connect()) {
                fresh.awaitComplete();
            }
            List<String> threads = Http.get(server.port(), "/threads?join=" + String.join(",", AGENT_THREADS))
                    .lines().collect(Collectors.toList());
            System.out.println("threads of the target after the detach: " + threads);
            assertThat(threads).as("threads of the target after the detach").contains("main")
                    .noneMatch(t -> AGENT_THREADS.stream().anyMatch(t::startsWith));
            assertThat(AgentCli.run("status", pid).exitCode()).as("status after the detach").isEqualTo(3);
            AgentCli.Result detachAgain = AgentCli.run("detach", pid);
            assertThat(detachAgain.exitCode()).as("%s", detachAgain).isEqualTo(3);
            assertThat(listLine(AgentCli.run("list"), pid)).doesNotContain(ItEnv.property("highwater.it.agent.version"));
            // No export after the detach. Absence cannot be awaited as an event: this watches for a fixed window
            // of 6 export intervals (500 ms each) on top of everything above.
            receiver.assertNoMetricBatchesBeyond(exportedBeforeDetach, Duration.ofSeconds(3));

            // ---- attach again: a fresh agent reports the same, still open connection
            AgentCli.Result again = attach(pid, receiver);
            assertThat(again.exitCode()).as("%s", again).isZero();
            assertThat(again.out()).contains("(attached)");
            MetricPoint writes = receiver.awaitPoint("ignored writes after the second attach",
                    nettyIgnoredWrites(WRITER).and(above(0)).and(fromBatch(exportedBeforeDetach)));
            receiver.awaitPoint("the connection's pending bytes after the second attach",
                    connectionPending(client, server.port()).and(above(0)).and(fromBatch(exportedBeforeDetach)));
            assertThat(writes.resource().get(SERVICE_INSTANCE_ID)).as("a new agent instance")
                    .isNotEqualTo(receiver.pointsInBatch(writes.metric(), 1).get(0).resource().get(SERVICE_INSTANCE_ID));
            receiver.awaitMetricBatches(writes.batch() + 2);
            assertOneAgentPerBatch(receiver, exportedBeforeDetach);
            assertWellFormed(receiver);
            assertThat(server.child().isAlive()).isTrue();
        }
    }

    @Test
    void attachToAProcessThatDoesNotExistFails() {
        long pid = Integer.MAX_VALUE; // far above any pid_max on Linux (at most 2^22)
        assertThat(ProcessHandle.of(pid)).isEmpty();
        AgentCli.Result r = AgentCli.run("attach", String.valueOf(pid));
        assertThat(r.exitCode()).as("%s", r).isEqualTo(1);
        assertThat(r.all()).as("%s", r).contains("no process with pid " + pid);
    }

    @Test
    void usageErrorsExitWithTwo() {
        AgentCli.Result noPid = AgentCli.run("attach");
        assertThat(noPid.exitCode()).as("%s", noPid).isEqualTo(2);
        assertThat(noPid.err()).as("%s", noPid).contains("usage");
        AgentCli.Result unknown = AgentCli.run("frobnicate");
        assertThat(unknown.exitCode()).as("%s", unknown).isEqualTo(2);
        AgentCli.Result notAPid = AgentCli.run("status", "abc");
        assertThat(notAPid.exitCode()).as("%s", notAPid).isEqualTo(2);
    }

    private static AgentCli.Result attach(String pid, OtlpReceiver receiver) {
        return AgentCli.run("attach", pid, "otel.exporter.otlp.endpoint=" + receiver.endpoint(),
                "otel.metric.export.interval=" + ExportServer.EXPORT_INTERVAL,
                "otel.service.name=" + ExportServer.SERVICE_NAME, "otel.bsp.schedule.delay=100ms");
    }

    /** The line of {@code list} for this pid. */
    private static String listLine(AgentCli.Result list, String pid) {
        return list.stdout().stream().filter(l -> l.startsWith(pid + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for pid " + pid + " in\n" + list));
    }

    /**
     * Every metric batch from {@code firstBatch} on comes from one agent instance (one {@code service.instance.id})
     * and carries each series once: no second set of instruments exporting beside the first.
     */
    private static void assertOneAgentPerBatch(OtlpReceiver receiver, int firstBatch) {
        List<MetricPoint> points = receiver.points().stream().filter(fromBatch(firstBatch)).collect(Collectors.toList());
        Set<Object> instances = points.stream().map(p -> p.resource().get(SERVICE_INSTANCE_ID))
                .collect(Collectors.toSet());
        assertThat(instances).as("agent instances exporting from batch %d on", firstBatch).hasSize(1);
        Set<List<Object>> seen = new HashSet<>();
        for (MetricPoint p : points) {
            List<Object> key = List.of(p.batch(), p.seriesKey());
            assertThat(seen.add(key)).as("series exported twice in one batch: %s", p).isTrue();
        }
    }
}

package io.highwater.it;

import io.highwater.it.support.AgentCli;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.Http;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import io.highwater.it.support.SwitchableCollector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static io.highwater.it.CollectorDownTest.ANY_FAILURE_LINE;
import static io.highwater.it.CollectorDownTest.FAILURE_LINE;
import static io.highwater.it.support.Contract.AGENT_DROPPED;
import static io.highwater.it.support.Contract.DROPPED_KIND;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A collector that accepts connections and never answers, then answers again, then answers with HTTP errors
 * (README, "Using the agent": one line per distinct problem; metrics: {@code backpressure.agent.dropped}, kind
 * {@code export}). The agent's export timeout is 1 s here ({@code otel.exporter.otlp.timeout}); the exporter
 * retries as OpenTelemetry's default policy says (5 attempts), which with a hanging collector takes far longer
 * than the first timeout. One server run, checked step by step.
 *
 * <p>Isolated: which export times out first (metrics or spans) depends on the export threads getting CPU in time.
 */
@Isolated
class CollectorHangsTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final Predicate<String> RECOVERY_LINE = l -> l.startsWith("[highwater] export recovered");
    /** The agent's own threads while it exports metrics and spans. */
    private static final Set<String> AGENT_THREADS = Set.of("highwater-timer", "highwater-export-metrics",
            "highwater-export-spans");

    @Test
    void aHangingCollectorIsSaidAtItsFirstTimeoutCountedShownByStatusAndItsRecoverySaidOnce() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             SwitchableCollector collector = SwitchableCollector.hanging(receiver);
             ExportServer server = ExportServer.builder("collector-hangs", NettyVariant.NETTY_41_NIO)
                     .sndbuf(64 * KIB)
                     .agent(ExportServer.agentArgs(collector.endpoint(), "otel.exporter.otlp.timeout=1s",
                             "telemetry.delay=0", "otel.bsp.schedule.delay=100ms")).start()) {
            ChildJvm child = server.child();
            String pid = String.valueOf(child.pid());
            String metrics = collector.endpoint() + "/v1/metrics";
            String traces = collector.endpoint() + "/v1/traces";

            // ---- hanging: said at the first attempt that timed out, not after the exporter's retries
            String failure = child.awaitStderr("the agent's export-failure line", FAILURE_LINE);
            int takenWhenSaid = collector.accepted();
            assertThat(takenWhenSaid).as("requests the collector had taken when the agent said so: the first"
                    + " attempt's, perhaps the first retry's; not the five of a whole export").isBetween(1, 2);
            assertThat(failure).as("the failure line").contains("export failed to " + metrics)
                    .contains("no answer within 1s (otel.exporter.otlp.timeout")
                    .contains("SocketTimeoutException");

            // the application is unaffected: a download at full speed completes while every export hangs
            try (SlowClient download = SlowClient.builder(server.port(), "/respect?bytes=" + 8 * MIB).fullSpeed()
                    .connect()) {
                download.awaitComplete();
                assertThat(download.bodyBytesRead()).isEqualTo(8L * MIB);
            }
            // both of Netty's worker threads run by now (a connection each)
            Set<String> appThreads = applicationThreads(server);
            // an episode with ignored writes ends (its client goes away): its span cannot be exported either
            try (SlowClient ignored = SlowClient.builder(server.port(), "/ignore?bytes=" + 16 * MIB).fullSpeed()
                    .pauseAtBodyBytes(64 * KIB).connect()) {
                ignored.awaitPaused();
                ignored.abort();
            }
            // the span export's first attempt timed out once its retry reaches the collector
            collector.awaitHangingRequests("/v1/traces", 2);
            collector.awaitHangingRequests("/v1/metrics", 3);

            assertThat(applicationThreads(server)).as("the application's threads").isEqualTo(appThreads);
            assertThat(agentThreads(server)).as("the agent's threads: no thread per hanging export")
                    .isEqualTo(AGENT_THREADS);
            AgentCli.Result failing = AgentCli.run("status", pid);
            assertThat(failing.exitCode()).as("%s", failing).isZero();
            assertThat(failing.out()).as("%s", failing).contains("export: failing since")
                    .containsPattern(Pattern.quote("metrics to " + metrics + ": last success never; failed: timeout ")
                            + "\\d+")
                    .containsPattern(Pattern.quote("spans to " + traces + ": last success never; failed: timeout ")
                            + "\\d+")
                    .containsPattern("exports dropped [1-9]");
            assertThat(child.stderr().stream().filter(ANY_FAILURE_LINE)).as("lines about failed exports")
                    .containsExactly(failure);

            // ---- the collector answers again: one line, and the failures in what it now receives
            collector.forward();
            String recovered = child.awaitStderr("the agent's recovery line", RECOVERY_LINE);
            assertThat(recovered).contains("reach " + collector.endpoint() + "/v1/");
            MetricPoint dropped = receiver.awaitPoint("dropped exports > 0",
                    metric(AGENT_DROPPED).and(p -> p.has(DROPPED_KIND, "export")).and(above(0)));
            assertThat(dropped.longValue()).as("exports that did not reach the collector, as it now learns")
                    .isGreaterThanOrEqualTo(2);
            AgentCli.Result ok = AgentCli.run("status", pid);
            assertThat(ok.out()).as("%s", ok).contains("export: ok, last success");
            long droppedInStatus = Long.parseLong(match(ok.out(), "exports dropped (\\d+)"));
            receiver.awaitPoint("the exported count of dropped exports catching up with status (" + droppedInStatus
                    + ")", metric(AGENT_DROPPED).and(p -> p.has(DROPPED_KIND, "export"))
                    .and(p -> p.longValue() >= droppedInStatus));

            // ---- HTTP errors: one line naming each status, and one recovery
            collector.answer(500);
            String http500 = child.awaitStderr("the line about HTTP 500",
                    FAILURE_LINE.and(l -> l.contains("HTTP 500")));
            collector.answer(400);
            String http400 = child.awaitStderr("the line about HTTP 400",
                    FAILURE_LINE.and(l -> l.contains("HTTP 400")));
            int linesBefore = child.stderr().size();
            collector.forward();
            child.awaitStderrFrom(linesBefore, "the second recovery line", RECOVERY_LINE);
            receiver.awaitFurtherMetricBatches(2);

            List<String> stderr = child.stderr();
            assertThat(stderr.stream().filter(FAILURE_LINE).collect(Collectors.toList()))
                    .as("the agent's failure lines: one per kind").containsExactly(failure, http500, http400);
            assertThat(stderr.stream().filter(RECOVERY_LINE).count()).as("recovery lines").isEqualTo(2);
            assertThat(http500).contains("export failed to " + metrics).contains("HTTP 500 Internal Server Error");
            AgentCli.Result after = AgentCli.run("status", pid);
            assertThat(after.out()).as("%s", after).contains("export: ok").containsPattern("http [1-9]");
            assertWellFormed(receiver);
            assertThat(child.isAlive()).isTrue();
        }
    }

    private static Set<String> threads(ExportServer server) {
        return Http.get(server.port(), "/threads").lines().collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> agentThreads(ExportServer server) {
        return threads(server).stream().filter(t -> t.startsWith("highwater")).collect(Collectors.toSet());
    }

    /** The application's threads; the cached pool that answers {@code /threads} comes and goes, and is left out. */
    private static Set<String> applicationThreads(ExportServer server) {
        return threads(server).stream().filter(t -> !t.startsWith("highwater") && !t.equals("export-app-thread"))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static String match(String text, String regex) {
        java.util.regex.Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no '" + regex + "' in\n" + text);
        }
        return m.group(1);
    }
}

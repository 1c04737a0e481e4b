package io.highwater.it;

import io.highwater.it.support.Fidelity;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static io.highwater.it.support.Exports.valueIs;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Beside the OpenTelemetry Java agent 2.x, the most common companion in production, which puts its own tracing
 * handlers into every Netty HTTP pipeline: the same ignoring application gives the same counts, exactly its own count
 * of writes beyond the tolerance, and the same call site as alone, never a frame of the other agent.
 *
 * <p>Isolated: the OpenTelemetry Java agent's start-up is CPU-heavy, and beside other test classes' child JVMs on
 * 2 cores it can outlast the wait for the server's port.
 */
@Isolated
class BesideOtherAgentsTest {

    private static final int KIB = 1024;
    private static final String APP = "io.highwater.it.apps.NettyExportServer.";
    private static final Pattern WRITES = Pattern.compile("WRITES (\\d+) total=(\\d+) beyond=(\\d+)");

    @ParameterizedTest(name = "with the OpenTelemetry Java agent: {0}")
    @ValueSource(booleans = {false, true})
    void sameCountsAndCallSitesAloneAndBesideTheOpenTelemetryJavaAgent(boolean withOtelAgent) {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = server(withOtelAgent, receiver);
             SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + 16 * 1024 * KIB + "&chunk="
                     + 16 * KIB).bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            String line = server.child().awaitStdout("the writer's own count",
                    l -> l.startsWith("WRITES " + client.localPort() + " "));
            Matcher m = WRITES.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            long beyond = Long.parseLong(m.group(3));
            assertThat(beyond).as("writes beyond the tolerance, by the application's count").isGreaterThan(100);

            receiver.awaitPoint("ignored writes = the writer's own count, " + beyond,
                    nettyIgnoredWrites(APP + "writeIgnoring").and(valueIs(beyond)));
            Fidelity.record("ignoring Netty writer" + (withOtelAgent ? " beside the OpenTelemetry Java agent" : ""),
                    "the writer's own writes beyond the tolerance", beyond,
                    "ignored writes attributed to the application's method",
                    receiver.counterSumBy(IGNORED_WRITES, FUNCTION).getOrDefault(APP + "writeIgnoring", 0L));
            assertThat(receiver.counterSumBy(IGNORED_WRITES, FUNCTION)).as("ignored writes by call site")
                    .containsExactly(java.util.Map.entry(APP + "writeIgnoring", beyond));
            if (withOtelAgent) {
                // the other agent was really there: it traced the request, with its handlers in the pipeline (its
                // server span ends with the response, cut short here)
                client.abort();
                receiver.awaitSpan("the OpenTelemetry Java agent's server span", s -> !s.scopeName().equals("highwater")
                        && s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER);
            }
        }
    }

    private static ExportServer server(boolean withOtelAgent, OtlpReceiver receiver) {
        ExportServer.Builder b = ExportServer.builder("beside-otel-" + withOtelAgent, NettyVariant.NETTY_41_NIO)
                .sndbuf(64 * KIB)
                // the host's otel.* settings say no metrics (for the other agent): highwater's own arguments win
                .agent(ExportServer.agentArgs(receiver.endpoint(), "otel.metrics.exporter=otlp"));
        if (withOtelAgent) {
            List<String> args = new ArrayList<>(List.of(
                    "-javaagent:" + Path.of(ItEnv.property("highwater.it.otel.javaagent")),
                    "-Dotel.service.name=it-traced-app", "-Dotel.exporter.otlp.protocol=http/protobuf",
                    "-Dotel.exporter.otlp.endpoint=" + receiver.endpoint(), "-Dotel.metrics.exporter=none",
                    "-Dotel.logs.exporter=none", "-Dotel.bsp.schedule.delay=200"));
            b.jvmArg(args.toArray(new String[0]));
        }
        return b.start();
    }
}

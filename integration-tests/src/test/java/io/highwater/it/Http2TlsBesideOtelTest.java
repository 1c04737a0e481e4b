package io.highwater.it;

import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.OtlpReceiver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 over TLS ({@link Http2TlsTest}'s server and checks) with the OpenTelemetry Java agent 2.x first on the
 * command line, as production often runs: it instruments Netty's pipeline, handler contexts, event loops and the
 * JDK's executors in the same JVM. The ignoring writer gives the same counts and the same call site as alone (between
 * the application's own counts, none in layer netty, the stream's pending bytes within 10 % of the stream channel's
 * own), never a frame of the other agent. Netty 4.1 only (the other agent's Netty instrumentation is the same for
 * 4.2).
 *
 * <p>Isolated: the OpenTelemetry Java agent's start-up is CPU-heavy (see {@link BesideOtherAgentsTest}).
 */
@Isolated
class Http2TlsBesideOtelTest {

    @Test
    void anIgnoringWriterOverTlsBesideTheOpenTelemetryJavaAgent(@TempDir Path keys) throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = Http2TlsTest.server("4.1", receiver, 48L << 20, keys, List.of(
                     "-javaagent:" + Path.of(ItEnv.property("highwater.it.otel.javaagent")),
                     "-Dotel.service.name=it-traced-app", "-Dotel.exporter.otlp.protocol=http/protobuf",
                     "-Dotel.exporter.otlp.endpoint=" + receiver.endpoint(), "-Dotel.metrics.exporter=none",
                     "-Dotel.logs.exporter=none", "-Dotel.bsp.schedule.delay=200"))) {
            // the other agent really runs in this JVM, started before highwater
            child.awaitStderr("the OpenTelemetry Java agent's start-up line",
                    l -> l.contains("opentelemetry-javaagent - version: 2."));
            String pipeline = Http2TlsTest.assertIgnoringWriterJudged("h2 over TLS (ALPN) beside the OpenTelemetry"
                    + " Java agent, netty 4.1", receiver, child);
            System.out.println("beside the OpenTelemetry Java agent: " + pipeline);
            assertThat(Http2TlsTest.callSites(receiver).keySet()).as("no call site in the other agent's code")
                    .noneMatch(site -> String.valueOf(site).startsWith("io.opentelemetry."));
        }
    }
}

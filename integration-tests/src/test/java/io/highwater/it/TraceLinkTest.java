package io.highwater.it;

import com.google.protobuf.ByteString;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Beside the OpenTelemetry Java agent, which traces the application's HTTP requests, an episode span links to the
 * request span that was current when the connection first hit backpressure: a user jumps from the slow request to
 * its backpressure story. Both agents export to the same test receiver.
 *
 * <p>Isolated: the OpenTelemetry Java agent's start-up is CPU-heavy, and beside other test classes' child JVMs on
 * 2 cores it can outlast the wait for the server's port.
 */
@Isolated
class TraceLinkTest {

    private static final int KIB = 1024;

    @Test
    void theEpisodeSpanLinksToTheRequestSpanOfTheOpenTelemetryJavaAgent() {
        Path javaagent = Path.of(ItEnv.property("highwater.it.otel.javaagent"));
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("trace-link", NettyVariant.NETTY_41_NIO)
                     .jvmArg("-javaagent:" + javaagent,
                             "-Dotel.service.name=it-traced-app",
                             "-Dotel.exporter.otlp.protocol=http/protobuf",
                             "-Dotel.exporter.otlp.endpoint=" + receiver.endpoint(),
                             "-Dotel.metrics.exporter=none",
                             "-Dotel.logs.exporter=none",
                             "-Dotel.bsp.schedule.delay=200")
                     // the host's otel.* settings say no metrics: highwater's own arguments win
                     .agent(ExportServer.agentArgs(receiver.endpoint(), "otel.metrics.exporter=otlp",
                             "spans.threshold=0ms"))
                     .start();
             SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + (4 * 1024 * KIB) + "&chunk=" + (16 * KIB))
                     .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * KIB).connect()) {
            client.awaitPaused();
            // the client gives up mid-download: the episode ends (in error) and its span is exported
            client.abort();

            ReceivedSpan request = receiver.awaitSpan("the Java agent's server span for GET /ignore",
                    s -> !s.scopeName().equals("highwater") && s.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER);
            ReceivedSpan episode = receiver.awaitSpan("highwater's episode span",
                    s -> s.scopeName().equals("highwater") && s.name().equals("backpressure netty"));

            List<Span.Link> links = episode.span().getLinksList();
            assertThat(links).as("links of the episode span").hasSize(1);
            ByteString traceId = request.span().getTraceId();
            assertThat(links.get(0).getTraceId()).as("linked trace").isEqualTo(traceId);
            assertThat(links.get(0).getSpanId()).as("linked span").isEqualTo(request.span().getSpanId());
            assertThat(episode.span().getParentSpanId()).as("a link, not a parent").isEmpty();
            assertThat(episode.span().getTraceId()).isNotEqualTo(traceId);
            assertThat(episode.resource()).containsEntry("service.name", "it-netty");
        }
    }
}

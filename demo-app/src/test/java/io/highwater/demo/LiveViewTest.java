package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When the view redraws in place, how connections map to endpoints, and what the block says. */
class LiveViewTest {

    @Test
    void inPlaceOnlyOnATerminalThatIsNotDumb() {
        assertThat(LiveView.decide(true, null, "xterm-256color", false)).isEqualTo(LiveView.Mode.IN_PLACE);
        assertThat(LiveView.decide(true, Boolean.TRUE, "xterm", false)).isEqualTo(LiveView.Mode.IN_PLACE);
        assertThat(LiveView.decide(true, null, null, false)).isEqualTo(LiveView.Mode.IN_PLACE);
        // output redirected: no console before JDK 22, a console that is no terminal since
        assertThat(LiveView.decide(false, null, "xterm", false)).isEqualTo(LiveView.Mode.PLAIN);
        assertThat(LiveView.decide(true, Boolean.FALSE, "xterm", false)).isEqualTo(LiveView.Mode.PLAIN);
        assertThat(LiveView.decide(true, null, "dumb", false)).isEqualTo(LiveView.Mode.PLAIN);
        assertThat(LiveView.decide(true, Boolean.TRUE, "DUMB", false)).isEqualTo(LiveView.Mode.PLAIN);
        assertThat(LiveView.decide(true, Boolean.TRUE, "xterm", true)).isEqualTo(LiveView.Mode.PLAIN);
    }

    @Test
    void theTestRunIsNotATerminal() {
        // surefire pipes the output: the decision for this very process must be plain
        assertThat(LiveView.detect(false)).isEqualTo(LiveView.Mode.PLAIN);
    }

    @Test
    void aConnectionBelongsToTheEndpointWhoseClientHadThatLocalPort() {
        LiveView.EndpointMap map = new LiveView.EndpointMap();
        map.assign(56884, "/export/respecting");
        map.assign(50542, "/export/ignoring");
        map.assign(50544, "/export/ignoring");

        assertThat(map.endpointOf(56884)).isEqualTo("/export/respecting");
        assertThat(map.endpointOf(50542)).isEqualTo("/export/ignoring");
        assertThat(map.endpointOf(8080)).isNull();
        assertThat(map.portsOf("/export/ignoring")).containsExactly(50542L, 50544L);

        Map<Long, Long> pending = new TreeMap<>();
        pending.put(50542L, 100L);
        pending.put(50544L, 20L);
        pending.put(56884L, 7L);
        pending.put(41000L, 1_000L); // somebody else's client
        assertThat(map.pendingOf("/export/ignoring", pending)).containsOnlyKeys(50542L, 50544L);
        assertThat(map.pendingOf("/export/respecting", pending)).containsOnlyKeys(56884L);
    }

    @Test
    void theBlockShowsPerEndpointWhatTheAgentExported() {
        AgentTelemetry telemetry = new AgentTelemetry();
        LiveView view = new LiveView(new PrintStream(new ByteArrayOutputStream()), LiveView.Mode.PLAIN, telemetry,
                TimeUnit.SECONDS.toNanos(2), "http://127.0.0.1:4999");
        SlowClient.Progress phone = new SlowClient.Progress();
        phone.localPort = 50542;
        phone.bodyBytes = 512 * 1024;
        phone.contentLength = 400L << 20;
        phone.elapsedNanos = TimeUnit.SECONDS.toNanos(2);
        view.endpoint("/export/ignoring", () -> phone);
        view.connected("/export/ignoring", 50542);
        telemetry.accept(OtlpReceiverTest.metrics(2_000, 0), System.nanoTime());

        assertThat(view.block(System.nanoTime())).containsSequence(
                "/export/ignoring    512.0 KiB of 400.0 MiB at 256 KiB/s, 2.0 s, port 50542",
                "    pending 85.0 MiB now, peak 85.0 MiB; kernel send queue 2.3 MiB; 2000 ignored writes",
                "      2000 at io.highwater.demo.NettyExport.writeRowsIgnoringBackpressure",
                "netty               pending 85.0 MiB of 128.0 MiB direct memory; 31.3 MiB written after stop",
                "    blocked 1, oldest wait 2.5 s, stalls 0",
                "    drain wait p50 1 ms, p90 2.50 s, p99 4.75 s (100 ended waits)");
        view.close();
    }

    @Test
    void theServletRowsShowTheBlockedThreadAndTheServletMethodThatIgnoredIsReady() {
        AgentTelemetry telemetry = new AgentTelemetry();
        LiveView view = new LiveView(new PrintStream(new ByteArrayOutputStream()), LiveView.Mode.PLAIN, telemetry,
                TimeUnit.SECONDS.toNanos(2), "http://127.0.0.1:4999");
        SlowClient.Progress phone = new SlowClient.Progress();
        phone.localPort = 51908;
        phone.bodyBytes = 200 * 1024;
        phone.contentLength = 400L << 20;
        phone.elapsedNanos = TimeUnit.SECONDS.toNanos(1);
        view.endpoint("/servlet/blocking", () -> phone);
        view.connected("/servlet/blocking", 51908);
        telemetry.accept(OtlpReceiverTest.servletMetrics(), System.nanoTime());

        assertThat(view.block(System.nanoTime())).containsSequence(
                "/servlet/blocking   200.0 KiB of 400.0 MiB at 200 KiB/s, 1.0 s, port 51908",
                "    pending 8.0 KiB now, peak 8.0 KiB; kernel send queue 1.0 MiB; 1 ignored writes",
                "      1 at io.highwater.demo.ServletExport.writeRowsIgnoringReadiness",
                // Tomcat's buffers are heap buffers: the servlet layer is put against the heap, not direct memory
                "servlet             pending 8.0 KiB of 256.0 MiB heap; 16.0 KiB written after stop",
                "    blocked 1, oldest wait 0.8 s, stalls 0",
                // 150 waits up to 1 ms, 21 in (50 ms, 100 ms]: p90 and p99 interpolated inside that bucket
                "    drain wait p50 1 ms, p90 59 ms, p99 96 ms (171 ended waits)");
        view.close();
    }

    @Test
    void theSocketRowsShowTheKernelSendQueueBesideTheBytesOfTheBlockedWrite() {
        AgentTelemetry telemetry = new AgentTelemetry();
        LiveView view = new LiveView(new PrintStream(new ByteArrayOutputStream()), LiveView.Mode.PLAIN, telemetry,
                TimeUnit.SECONDS.toNanos(2), "http://127.0.0.1:4999");
        SlowClient.Progress phone = new SlowClient.Progress();
        phone.localPort = 52210;
        phone.bodyBytes = 400 * 1024;
        phone.contentLength = 400L << 20;
        phone.elapsedNanos = TimeUnit.SECONDS.toNanos(2);
        view.endpoint("/socket/export", () -> phone);
        view.connected("/socket/export", 52210);
        telemetry.accept(OtlpReceiverTest.socketMetrics(), System.nanoTime());

        assertThat(view.block(System.nanoTime())).containsSequence(
                "/socket/export      400.0 KiB of 400.0 MiB at 200 KiB/s, 2.0 s, port 52210",
                "    pending 16.0 KiB now, peak 16.0 KiB; kernel send queue 2.3 MiB; no ignored writes",
                // the bytes of a blocked socket write are the application's byte array: heap
                "socket              pending 16.0 KiB of 256.0 MiB heap",
                "    blocked 1, oldest wait 1.2 s, stalls 0",
                "    drain wait p50 1.75 s, p90 2.35 s, p99 2.49 s (2 ended waits)");
        view.close();
    }

    @Test
    void ignoredWritesCountForTheEndpointWhoseDownloadWasCurrent() {
        AgentTelemetry telemetry = new AgentTelemetry();
        LiveView view = new LiveView(new PrintStream(new ByteArrayOutputStream()), LiveView.Mode.PLAIN, telemetry,
                TimeUnit.SECONDS.toNanos(2), "http://127.0.0.1:4999");
        SlowClient.Progress p = new SlowClient.Progress();
        view.endpoint("/export/respecting", () -> p);
        view.connected("/export/respecting", 56884);
        telemetry.accept(OtlpReceiverTest.metrics(0, 0), System.nanoTime());
        view.endpoint("/export/ignoring", () -> p);
        view.connected("/export/ignoring", 50542);
        telemetry.accept(OtlpReceiverTest.metrics(2_000, 0), System.nanoTime());

        assertThat(String.join("\n", view.block(System.nanoTime())))
                // the respecting connection left the top N: no pending bytes and no kernel send queue now
                .contains("/export/respecting  connecting\n    pending 0 B now, peak 64.4 KiB; no ignored writes\n"
                        + "/export/ignoring    connecting\n    pending 85.0 MiB now, peak 85.0 MiB;"
                        + " kernel send queue 2.3 MiB; 2000 ignored writes\n"
                        + "      2000 at io.highwater.demo.NettyExport.writeRowsIgnoringBackpressure\nnetty")
                .doesNotContain("other clients");
        view.close();
    }

    @Test
    void inPlaceRedrawsWithAnsiEscapesAndPlainPrintsLines() throws Exception {
        String inPlace = render(LiveView.Mode.IN_PLACE);
        assertThat(inPlace).contains("first line\n").contains("second line\n")
                .contains("\u001b[2K")                       // clear line
                .containsPattern("\r\u001b\\[\\d+A");        // cursor up over the block drawn before
        String plain = render(LiveView.Mode.PLAIN);
        assertThat(plain).doesNotContain("\u001b").startsWith("first line\nsecond line\n[view] highwater agent via OTLP");
    }

    private static String render(LiveView.Mode mode) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        LiveView view = new LiveView(new PrintStream(bytes, true, "UTF-8"), mode, new AgentTelemetry(),
                TimeUnit.SECONDS.toNanos(60), "http://127.0.0.1:4999");
        view.start();
        view.log("first line");
        view.log("second line");
        view.finish();
        return bytes.toString(StandardCharsets.UTF_8.name());
    }
}

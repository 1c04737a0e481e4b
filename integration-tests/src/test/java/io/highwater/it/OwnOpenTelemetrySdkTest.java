package io.highwater.it;

import io.highwater.it.apps.OwnOtelSdkApp;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.nettyIgnoredWrites;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application with its own OpenTelemetry SDK (another version than the agent's, unshaded on the class path):
 * its SDK works, including registering itself as the global OpenTelemetry, and the agent still reports.
 */
class OwnOpenTelemetrySdkTest {

    private static final int MIB = 1024 * 1024;

    @Test
    void applicationSdkAndAgentWorkSideBySide() {
        String ownVersion = ItEnv.property("highwater.it.ownotel.version");
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("own-sdk", NettyVariant.NETTY_41_NIO)
                     .mainClass(OwnOtelSdkApp.class).extraClassPath(ChildJvm.jars(ItEnv.ownOtelDir()))
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start()) {
            ChildJvm child = server.child();
            assertThat(child.stdout()).noneMatch(l -> l.startsWith("OWN-SDK-FAILED"));
            assertThat(child.awaitStdoutValue("OWN-SDK-OK")).as("the app's own counter read back").isEqualTo("42");
            assertThat(child.awaitStdoutValue("OWN-SDK-JAR")).as("where the app's SDK came from")
                    .endsWith("/opentelemetry-sdk-metrics-" + ownVersion + ".jar");

            try (SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + 16 * MIB)
                    .bytesPerSecond(1_000_000).pauseAtBodyBytes(64 * 1024).connect()) {
                client.awaitPaused();
                receiver.awaitPoint("ignored writes > 0 by writeIgnoring",
                        nettyIgnoredWrites("io.highwater.it.apps.NettyExportServer.writeIgnoring").and(above(0)));
            }
            assertWellFormed(receiver);
            assertThat(receiver.metricNames()).as("the app's own metrics stay with the app")
                    .doesNotContain(OwnOtelSdkApp.COUNTER);
        }
    }
}

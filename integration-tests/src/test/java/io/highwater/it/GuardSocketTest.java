package io.highwater.it;

import io.highwater.it.apps.socket.SocketExportServer;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.highwater.it.GuardNettyTest.GUARD_ACTION;
import static io.highwater.it.GuardNettyTest.GUARD_ACTIONS;
import static io.highwater.it.GuardNettyTest.GUARD_ENFORCED;
import static io.highwater.it.GuardNettyTest.GUARD_REASON;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.SOCKET;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard's {@code fail} on a plain {@code ServerSocket} writer (a thread per connection, blocking socket stream
 * writes): the client stops reading, the write blocks, and after {@code guard.stall} the guard fails it. The
 * application's own catch block prints what it caught: the guard's {@code IOException}, naming highwater, the limit and
 * the setting.
 */
class GuardSocketTest {

    private static final int KIB = 1024;

    @Test
    void aBlockedSocketWriteFailsWithTheGuardsIOException() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = ListeningChild.start(ChildJvm.builder("guard-socket-fail")
                     .classPath(List.of(ItEnv.testClasses())).mainClass(SocketExportServer.class)
                     .args("--kind", "socket", "--sndbuf", String.valueOf(64 * KIB))
                     .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint(),
                             "telemetry.delay=0", "guard.mode=enforce", "guard.action=fail", "guard.stall=2s",
                             "stall.threshold=1s")));
             SlowClient client = SlowClient.builder(server.port, "/export?bytes=" + 64L * 1024 * KIB + "&chunk="
                     + 16 * KIB).bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            client.awaitPaused();
            String failed = server.child.awaitStdoutValue("WRITE-FAILED " + client.localPort());
            assertThat(failed).as("what the application caught")
                    .startsWith("java.io.IOException: highwater guard: write refused")
                    .contains("highwater.guard.stall=2s").contains("highwater.guard.action=fail");
            MetricPoint action = receiver.awaitPoint("an enforced stall fail",
                    p -> p.metric().equals(GUARD_ACTIONS) && p.longValue() == 1);
            assertThat(action.attr(LAYER)).isEqualTo(SOCKET);
            assertThat(action.attr(GUARD_ACTION)).isEqualTo("fail");
            assertThat(action.attr(GUARD_REASON)).isEqualTo("stall");
            assertThat(action.attr(GUARD_ENFORCED)).isEqualTo(true);
            client.resume();
            client.awaitEnd();
            assertThat(client.bodyBytesRead()).isLessThan(64L * 1024 * KIB);
        }
    }

    @Test
    void withoutTheGuardTheBlockedWriteWaitsForTheClient() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ListeningChild server = ListeningChild.start(ChildJvm.builder("guard-socket-none")
                     .classPath(List.of(ItEnv.testClasses())).mainClass(SocketExportServer.class)
                     .args("--kind", "socket", "--sndbuf", String.valueOf(64 * KIB))
                     .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint(),
                             "telemetry.delay=0", "stall.threshold=1s")));
             SlowClient client = SlowClient.builder(server.port, "/export?bytes=" + 4 * 1024 * KIB + "&chunk="
                     + 16 * KIB).bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            client.awaitPaused();
            // a stall the agent sees, several times the guard's stall in the test above
            receiver.awaitPoint("the blocked write's stall", p -> p.metric().equals("backpressure.drain.stalls")
                    && SOCKET.equals(p.attr(LAYER)) && p.longValue() >= 1);
            receiver.awaitFurtherMetricBatches(8);
            client.resume();
            client.awaitComplete();
            assertThat(server.child.stdout()).noneMatch(l -> l.startsWith("WRITE-FAILED"));
        }
    }
}

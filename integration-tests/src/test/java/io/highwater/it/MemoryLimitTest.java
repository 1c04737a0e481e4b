package io.highwater.it;

import io.highwater.it.support.ExportServer;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.OtlpReceiver;
import org.junit.jupiter.api.Test;

import static io.highwater.it.support.Contract.MEMORY_KIND;
import static io.highwater.it.support.Contract.MEMORY_LIMIT;
import static io.highwater.it.support.Exports.assertContractShapes;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code backpressure.memory.limit} reports the JVM's own limits: max heap and max direct memory. */
class MemoryLimitTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void heapAndDirectLimitsAreTheJvmsOwn() {
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ExportServer server = ExportServer.builder("memory-limit", NettyVariant.NETTY_41_NIO)
                     .jvmArg("-Xmx256m", "-XX:MaxDirectMemorySize=96m")
                     .agent(ExportServer.agentArgs(receiver.endpoint())).start()) {
            long maxHeap = Long.parseLong(server.child().awaitStdoutValue("HEAP-MAX")); // Runtime.maxMemory()
            MetricPoint heap = receiver.awaitPoint("memory limit of kind heap",
                    metric(MEMORY_LIMIT).and(p -> p.has(MEMORY_KIND, "heap")));
            MetricPoint direct = receiver.awaitPoint("memory limit of kind direct",
                    metric(MEMORY_LIMIT).and(p -> p.has(MEMORY_KIND, "direct")));

            assertThat(heap.doubleValue()).as("%s", heap).isPositive().isEqualTo((double) maxHeap);
            assertThat(direct.doubleValue()).as("%s", direct).isPositive().isEqualTo(96.0 * MIB);
            assertWellFormed(receiver);
            assertContractShapes(receiver);
        }
    }
}

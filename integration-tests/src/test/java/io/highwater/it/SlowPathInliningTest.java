package io.highwater.it;

import io.highwater.it.apps.StopGoLoop;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.OtlpReceiver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JIT compiles the advice's slow path as a call, never inlined into Netty's methods, however often it runs: a
 * channel that keeps crossing its water marks makes it hot, and inlined it would make {@code removeBytes} too big to
 * be inlined into the transport's {@code doWrite} (docs/benchmark-journal.md, "Streaming"). The bootstrap helpers carry the
 * JVM's {@code DontInline}, which the JVM honours only for the boot class loader: this checks, with the real agent
 * jar, that it does for the helpers as the agent defines them. Read from C2's own inlining decisions
 * ({@code PrintInlining}), for the instrumented methods only.
 *
 * <p>Isolated: C2 must compile the loop's hot methods while the test waits, which other test classes' child JVMs
 * would slow down on 2 cores.
 */
@Isolated
class SlowPathInliningTest {

    private static final String HELPERS = "io.highwater.netty.bootstrap.NettyCalls::";

    @Test
    void theSlowPathStaysACallInTheCompiledWritePath() {
        List<Path> classPath = new ArrayList<>(List.of(ItEnv.testClasses()));
        classPath.addAll(ChildJvm.jars(ItEnv.netty41Dir()));
        try (OtlpReceiver receiver = OtlpReceiver.start();
             ChildJvm child = ChildJvm.builder("stop-go").classPath(classPath).mainClass(StopGoLoop.class)
                     .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint()))
                     // C2 only, compiling in the foreground: by the loop's end each instrumented method has been
                     // compiled with its slow-path call sites hot
                     .jvmArg("-XX:-TieredCompilation", "-Xbatch", "-XX:+UnlockDiagnosticVMOptions",
                             "-XX:CompileCommand=quiet",
                             "-XX:CompileCommand=PrintInlining,io.netty.channel.ChannelOutboundBuffer::*",
                             "-XX:CompileCommand=PrintInlining,io.netty.channel.AbstractChannelHandlerContext::*",
                             // the loop itself may be the compilation that inlines Netty's write (an OSR compilation,
                             // say, when C2 is slow to get round to the write on a loaded machine): its decisions count
                             "-XX:CompileCommand=PrintInlining,io.highwater.it.apps.StopGoLoop::*")
                     .args("200000").start()) {
            assertThat(child.awaitExit()).as(child.transcript()).isZero();
            assertThat(child.stdout()).contains("CYCLES 200000");
            List<String> decisions = child.stdout().stream().filter(l -> l.contains(HELPERS))
                    .map(String::trim).collect(Collectors.toList());
            for (String slowPath : List.of("writeWhileUnwritable", "writabilityChanged", "drained")) {
                assertThat(decisions).as("C2's decisions on " + slowPath + " in Netty's compiled methods")
                        .anyMatch(l -> l.contains(HELPERS + slowPath + " "));
            }
            // the pipeline entry's filter is the fast path while some channel is unwritable: inlined, its call on
            // to the agent is not
            List<String> entry = decisions.stream().filter(l -> l.contains(HELPERS + "entersPipeline ")
                    || l.contains(HELPERS + "mayBeUnwritable ")).collect(Collectors.toList());
            assertThat(entry).as("C2's decisions on the pipeline entry").isNotEmpty()
                    .allMatch(l -> l.contains("inline"))
                    .noneMatch(l -> l.contains("don't inline") || l.contains("too big") || l.contains("failed"));
            decisions.removeAll(entry);
            assertThat(decisions).allMatch(l -> l.endsWith("don't inline by annotation"));
        }
    }
}

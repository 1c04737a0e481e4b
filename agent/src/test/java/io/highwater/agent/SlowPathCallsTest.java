package io.highwater.agent;

import io.highwater.netty.bootstrap.NettyCalls;
import io.highwater.servlet.bootstrap.ServletCalls;
import io.highwater.socket.bootstrap.SocketWrites;
import io.highwater.vertx.bootstrap.VertxCalls;
import io.highwater.reactor.bootstrap.ReactorCalls;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every way from the advice's helpers into the agent proper (through their integration's {@code hooks}) is a method the JIT must not
 * inline: the advice is inlined into the host's hottest methods, and a slow path that runs often would otherwise
 * take the agent's code along into them (docs/benchmark-journal.md, "Streaming"). {@code SlowPathInliningTest} in the
 * integration tests checks that the JVM honours the annotation for the helpers as the agent defines them.
 */
class SlowPathCallsTest {

    private static final String DONT_INLINE = "Ljdk/internal/vm/annotation/DontInline;";

    @Test
    void helpersReachTheAgentOnlyThroughMethodsThatAreNeverInlined() throws IOException {
        for (Class<?> helper : List.of(NettyCalls.class, ServletCalls.class, SocketWrites.class, VertxCalls.class, ReactorCalls.class)) {
            List<String> intoTheAgent = new ArrayList<>();
            for (Map.Entry<String, ClassFile.MethodInfo> m : read(helper).methods.entrySet()) {
                // each integration's hooks field is its one way into the agent
                if (m.getValue().staticFieldsRead.stream().anyMatch(f -> f.matches("io/highwater/\\w+/bootstrap/\\w+\\.hooks"))) {
                    intoTheAgent.add(m.getKey());
                    assertThat(m.getValue().annotations).as(helper.getSimpleName() + "." + m.getKey())
                            .contains(DONT_INLINE);
                }
            }
            assertThat(intoTheAgent).as(helper.getSimpleName() + ": methods that call into the agent").isNotEmpty();
        }
    }

    @Test
    void theFastPathsStayInlineable() throws IOException {
        // what the advice calls on every write must be inlined, or each write pays a call
        ClassFile sockets = read(SocketWrites.class);
        for (String fast : List.of("begin", "end", "gatherBegins", "gatherEnds", "channelWriteBegins",
                "channelWriteEnds", "streamWriteEnds", "keyReady", "parking")) {
            List<String> found = new ArrayList<>();
            sockets.methods.forEach((name, m) -> {
                if (name.startsWith(fast + "(")) {
                    found.add(name);
                    assertThat(m.annotations).as("SocketWrites." + name).doesNotContain(DONT_INLINE);
                }
            });
            assertThat(found).as("SocketWrites." + fast + ", which the advice calls").isNotEmpty();
        }
    }

    @Test
    void theNettyPipelineEntryStaysInlineable() throws IOException {
        // every hop of every write calls it while some channel in the JVM is unwritable: a call per hop otherwise
        ClassFile netty = read(NettyCalls.class);
        List<String> found = new ArrayList<>();
        netty.methods.forEach((name, m) -> {
            if (name.startsWith("entersPipeline(") || name.startsWith("mayBeUnwritable(")) {
                found.add(name);
                assertThat(m.annotations).as("NettyCalls." + name).doesNotContain(DONT_INLINE);
            }
        });
        assertThat(found).hasSize(3);
    }

    private static ClassFile read(Class<?> type) throws IOException {
        try (InputStream in = type.getResourceAsStream(type.getSimpleName() + ".class")) {
            assertThat(in).as(type.getName()).isNotNull();
            return ClassFile.parse(in.readAllBytes());
        }
    }
}

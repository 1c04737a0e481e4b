package io.highwater.it.harness;

import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.NettyVariant;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The child JVMs' class paths hold exactly one Netty version (with the epoll native library), or the application's
 * own OpenTelemetry SDK, and nothing of the test side (JUnit, AssertJ, protobuf).
 */
class ChildClassPathTest {

    @Test
    void netty41DirectoryHoldsOnlyNetty41WithEpoll() {
        String v = NettyVariant.NETTY_41_NIO.version();
        assertThat(v).startsWith("4.1.");
        assertThat(names(ItEnv.netty41Dir())).containsExactlyInAnyOrder(
                "netty-buffer-" + v + ".jar",
                "netty-codec-" + v + ".jar",
                "netty-codec-http-" + v + ".jar",
                // the h2c server (Http2StreamChannelTest) and grpc-netty (GrpcCallNotReadyTest)
                "netty-codec-http2-" + v + ".jar",
                "netty-common-" + v + ".jar",
                "netty-handler-" + v + ".jar",
                "netty-resolver-" + v + ".jar",
                "netty-transport-" + v + ".jar",
                "netty-transport-classes-epoll-" + v + ".jar",
                "netty-transport-native-epoll-" + v + "-linux-x86_64.jar",
                "netty-transport-native-unix-common-" + v + ".jar");
    }

    @Test
    void netty42DirectoryHoldsOnlyNetty42WithItsSplitCodecsAndEpoll() {
        String v = NettyVariant.NETTY_42_NIO.version();
        assertThat(v).startsWith("4.2.");
        assertThat(names(ItEnv.netty42Dir())).containsExactlyInAnyOrder(
                "netty-buffer-" + v + ".jar",
                "netty-codec-base-" + v + ".jar",
                "netty-codec-compression-" + v + ".jar",
                "netty-codec-http-" + v + ".jar",
                // the h2c server (Http2StreamChannelTest) and grpc-netty (GrpcCallNotReadyTest)
                "netty-codec-http2-" + v + ".jar",
                "netty-common-" + v + ".jar",
                "netty-handler-" + v + ".jar",
                "netty-resolver-" + v + ".jar",
                "netty-transport-" + v + ".jar",
                "netty-transport-classes-epoll-" + v + ".jar",
                "netty-transport-native-epoll-" + v + "-linux-x86_64.jar",
                "netty-transport-native-unix-common-" + v + ".jar");
    }

    @Test
    void ownOtelDirectoryHoldsOneSdkVersionThatIsNotTheAgents() {
        String own = ItEnv.property("highwater.it.ownotel.version");
        String agents = ItEnv.property("highwater.it.agent.otel.version");
        assertThat(own).isNotEqualTo(agents);
        assertThat(names(ItEnv.ownOtelDir()))
                .allSatisfy(n -> assertThat(n).startsWith("opentelemetry-").endsWith("-" + own + ".jar"))
                .contains("opentelemetry-api-" + own + ".jar", "opentelemetry-sdk-metrics-" + own + ".jar");
    }

    @Test
    void variantClassPathsAreTestClassesPlusOneNettyAndNothingElse() {
        for (NettyVariant variant : NettyVariant.values()) {
            List<Path> cp = variant.classPath();
            assertThat(cp.get(0)).isEqualTo(ItEnv.testClasses());
            assertThat(cp.subList(1, cp.size())).allSatisfy(p -> {
                assertThat(p.getParent()).isEqualTo(variant.jarDir());
                if (variant.relocated()) {
                    // one jar: grpc-netty-shaded, whose Netty is relocated into it (its version is checked at start)
                    assertThat(p.getFileName().toString()).startsWith("grpc-netty-shaded-");
                } else {
                    assertThat(p.getFileName().toString()).startsWith("netty-").contains(variant.version());
                }
            });
        }
    }

    private static List<String> names(Path dir) {
        return ChildJvm.jars(dir).stream().map(p -> p.getFileName().toString()).collect(Collectors.toList());
    }
}

package io.highwater.core;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The one list of code that is not the application's, and its two views. */
class FrameworksTest {

    private final Frameworks builtIn = Frameworks.builtIn();

    @Test
    void otherAgentsFramesAreNeverTheCallSite() {
        for (String agentClass : Arrays.asList(
                "io.opentelemetry.javaagent.shaded.instrumentation.netty.v4_1.internal.server.HttpServerResponseTracingHandler",
                "io.opentelemetry.javaagent.bootstrap.Java8BytecodeBridge", "datadog.trace.instrumentation.netty41.X",
                "co.elastic.apm.agent.netty.X", "com.newrelic.agent.X", "org.glowroot.agent.X",
                "org.apache.skywalking.apm.agent.X", "com.navercorp.pinpoint.X", "com.dynatrace.X")) {
            assertThat(builtIn.isFramework(agentClass)).as(agentClass).isTrue();
            assertThat(builtIn.isAgent(agentClass)).as(agentClass).isTrue();
        }
    }

    @Test
    void generatedProxiesAreNeverTheCallSite() {
        assertThat(builtIn.isFramework("com.example.Export$$SpringCGLIB$$0")).isTrue();
        assertThat(builtIn.isFramework("com.example.Export$HibernateProxy$x1")).isTrue();
        assertThat(builtIn.isFramework("com.example.Export")).isFalse();
        assertThat(builtIn.isFramework("io.highwater.demo.ReportingService")).as("the demo is an application").isFalse();
    }

    @Test
    void librariesOwnTheirSocketsTheRuntimeAndHighwatersOwnHooksDoNot() {
        assertThat(builtIn.ownsSockets("io.netty.channel.nio.NioEventLoop")).isTrue();
        assertThat(builtIn.ownsSockets("jdk.internal.net.http.SocketTube")).as("the JDK's HTTP client").isTrue();
        assertThat(builtIn.ownsSockets("io.highwater.shaded.io.opentelemetry.exporter.X")).as("highwater's exporter")
                .isTrue();
        assertThat(builtIn.ownsSockets("java.net.Socket")).isFalse();
        assertThat(builtIn.ownsSockets("io.highwater.socket.SocketAdapter")).as("on every stack the hooks walk")
                .isFalse();
        assertThat(builtIn.ownsSockets("com.example.Export")).isFalse();
    }

    @Test
    void aRelocatedLibraryIsStillTheLibrary() {
        assertThat(builtIn.isFramework("com.acme.shaded.io.netty.channel.AbstractChannelHandlerContext")).isTrue();
        assertThat(builtIn.ownsSockets("org.driver.internal.shaded.io.netty.channel.nio.NioEventLoop")).isTrue();
        assertThat(builtIn.isFramework("com.acme.nettyapp.Export")).isFalse();
    }

    @Test
    void theUsersPrefixesExtendBothViews() {
        Frameworks extended = new Frameworks(Arrays.asList(" com.acme.rpc", "org.mine.", " "));
        assertThat(extended.isFramework("com.acme.rpc.Conn")).isTrue();
        assertThat(extended.ownsSockets("com.acme.rpc.Conn")).isTrue();
        assertThat(extended.ownsSockets("org.mine.Writer")).isTrue();
        assertThat(extended.isFramework("com.acme.rpcx.Conn")).as("a package, not a string prefix").isFalse();
    }

    /** A framework's handler is claimed while its integration is installed, and only then. */
    @Test
    void claimedHandlersAreClaimedUntilReleased() {
        Frameworks f = Frameworks.builtIn();
        String handler = "io.vertx.core.net.impl.VertxHandler";
        assertThat(f.isClaimedHandler(handler)).isFalse();
        f.claimHandler(handler);
        assertThat(f.isClaimedHandler(handler)).isTrue();
        assertThat(f.isClaimedHandler("io.netty.handler.codec.http.HttpServerCodec")).isFalse();
        f.unclaimHandler(handler);
        assertThat(f.isClaimedHandler(handler)).isFalse();
    }
}

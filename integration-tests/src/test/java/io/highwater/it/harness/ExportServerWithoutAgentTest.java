package io.highwater.it.harness;

import io.highwater.it.support.ExportServer;
import io.highwater.it.support.Http;
import io.highwater.it.support.NettyVariant;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server app and the slow client without the agent: every endpoint serves its whole body on every Netty
 * version and transport, and the client's pause, resume and abort work. Needs no agent jar.
 */
class ExportServerWithoutAgentTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * 1024;

    @ParameterizedTest(name = "{0}")
    @EnumSource(NettyVariant.class)
    void servesEveryEndpointCompletely(NettyVariant variant) {
        try (ExportServer server = ExportServer.builder("plain-" + variant.name(), variant).start()) {
            int port = server.port();
            for (String path : new String[] {"/respect?bytes=" + MIB, "/single?bytes=" + 256 * KIB,
                    "/ignore?bytes=" + 2 * MIB, "/ignore-offloop?bytes=" + 2 * MIB + "&chunk=" + 8 * KIB,
                    "/ignore-paced?bytes=" + MIB + "&rate=" + 20_000_000}) {
                try (SlowClient client = SlowClient.builder(port, path).bytesPerSecond(20_000_000).readSize(64 * KIB)
                        .connect()) {
                    client.awaitComplete();
                    assertThat(client.status()).as(path).isEqualTo(200);
                    assertThat(client.bodyBytesRead()).as(path)
                            .isEqualTo(Long.parseLong(path.replaceAll(".*bytes=(\\d+).*", "$1")));
                }
            }
            assertThat(Http.get(port, "/threads").lines()).as("thread names").contains("main");
            assertThat(Http.get(port, "/threads?join=no-such-thread").lines()).contains("main");
            try (SlowClient missing = SlowClient.builder(port, "/nope").connect()) {
                missing.awaitComplete();
                assertThat(missing.status()).isEqualTo(404);
            }
            assertThat(server.child().isAlive()).isTrue();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = NettyVariant.class, names = {"NETTY_41_NIO", "NETTY_42_EPOLL"})
    void slowClientPausesResumesAndAborts(NettyVariant variant) {
        try (ExportServer server = ExportServer.builder("pause-" + variant.name(), variant).start()) {
            try (SlowClient client = SlowClient.builder(server.port(), "/respect?bytes=" + MIB)
                    .bytesPerSecond(4_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
                client.awaitPaused();
                assertThat(client.bodyBytesRead()).isEqualTo(256 * KIB);
                assertThat(client.contentLength()).isEqualTo(MIB);
                assertThat(client.isComplete()).isFalse();
                client.resume();
                client.awaitComplete();
                assertThat(client.bodyBytesRead()).isEqualTo(MIB);
            }
            try (SlowClient client = SlowClient.builder(server.port(), "/ignore?bytes=" + 8 * MIB)
                    .bytesPerSecond(1_000_000).connect()) {
                client.awaitBodyBytes(32 * KIB);
                client.pause();
                client.awaitPaused();
                client.abort();
                client.awaitEnd();
                assertThat(client.failure()).isNull();
                assertThat(client.isComplete()).isFalse();
                assertThat(client.localPort()).isPositive();
            }
            // the server shrugs off the aborted client
            try (SlowClient client = SlowClient.builder(server.port(), "/single?bytes=" + 64 * KIB).connect()) {
                client.awaitComplete();
            }
        }
    }
}

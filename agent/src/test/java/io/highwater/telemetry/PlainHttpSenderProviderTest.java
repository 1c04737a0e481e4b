package io.highwater.telemetry;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.ProxyOptions;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

import static org.assertj.core.api.Assertions.assertThat;

class PlainHttpSenderProviderTest {

    @Test
    void aPlainHttpEndpointGetsAContextWithoutTls() {
        HttpSenderConfig config = config("http://127.0.0.1:4318/v1/metrics", null);
        assertThat(PlainHttpSenderProvider.effective(config).getSslContext())
                .isInstanceOf(PlainHttpSenderProvider.NoTlsContext.class);
        assertThat(PlainHttpSenderProvider.effective(config).getEndpoint()).isEqualTo(config.getEndpoint());
    }

    @Test
    void httpsEndpointsAndExplicitTlsSettingsAreLeftAsTheyAre() throws NoSuchAlgorithmException {
        HttpSenderConfig https = config("https://collector.example:4318/v1/metrics", null);
        assertThat(PlainHttpSenderProvider.effective(https)).isSameAs(https);
        HttpSenderConfig own = config("http://127.0.0.1:4318/v1/metrics", SSLContext.getInstance("TLS"));
        assertThat(PlainHttpSenderProvider.effective(own)).isSameAs(own);
    }

    @Test
    void aSenderWithoutTlsStillSpeaksPlainHttp() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/metrics", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        try {
            HttpSender sender = new PlainHttpSenderProvider().createSender(
                    config("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/metrics", null));
            CompletableFuture<Integer> status = new CompletableFuture<>();
            sender.send(new MessageWriter() {
                @Override
                public void writeMessage(OutputStream out) throws IOException {
                    out.write(new byte[] {1, 2, 3});
                }

                @Override
                public int getContentLength() {
                    return 3;
                }
            }, response -> status.complete(response.getStatusCode()), status::completeExceptionally);
            assertThat(status).succeedsWithin(30, TimeUnit.SECONDS).isEqualTo(200);
            sender.shutdown();
        } finally {
            server.stop(0);
        }
    }

    private static HttpSenderConfig config(String endpoint, SSLContext ssl) {
        return new HttpSenderConfig() {
            @Override
            public URI getEndpoint() {
                return URI.create(endpoint);
            }

            @Override
            public String getContentType() {
                return "application/x-protobuf";
            }

            @Override
            public Compressor getCompressor() {
                return null;
            }

            @Override
            public Duration getTimeout() {
                return Duration.ofSeconds(10);
            }

            @Override
            public Duration getConnectTimeout() {
                return Duration.ofSeconds(10);
            }

            @Override
            public Supplier<Map<String, List<String>>> getHeadersSupplier() {
                return Collections::emptyMap;
            }

            @Override
            public ProxyOptions getProxyOptions() {
                return null;
            }

            @Override
            public RetryPolicy getRetryPolicy() {
                return null;
            }

            @Override
            public SSLContext getSslContext() {
                return ssl;
            }

            @Override
            public X509TrustManager getTrustManager() {
                return null;
            }

            @Override
            public ExecutorService getExecutorService() {
                return null;
            }
        };
    }
}

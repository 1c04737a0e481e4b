package io.highwater.telemetry;

import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.ProxyOptions;
import io.opentelemetry.sdk.common.export.RetryPolicy;

import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/** A sender configuration for the tests, as the OTLP exporter builds one: what a test does not set is the default. */
final class SenderConfig implements HttpSenderConfig {

    private final String endpoint;
    SSLContext ssl;
    Compressor compressor;
    RetryPolicy retry;
    Map<String, List<String>> headers = Collections.emptyMap();
    long maxResponseBodySize = 4 * 1024 * 1024;
    Duration timeout = Duration.ofSeconds(10);
    Duration connectTimeout = Duration.ofSeconds(10);

    SenderConfig(String endpoint) {
        this.endpoint = endpoint;
    }

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
        return compressor;
    }

    @Override
    public Duration getTimeout() {
        return timeout;
    }

    @Override
    public Duration getConnectTimeout() {
        return connectTimeout;
    }

    @Override
    public Supplier<Map<String, List<String>>> getHeadersSupplier() {
        return () -> headers;
    }

    @Override
    public ProxyOptions getProxyOptions() {
        return null;
    }

    @Override
    public RetryPolicy getRetryPolicy() {
        return retry;
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

    @Override
    public long getMaxResponseBodySize() {
        return maxResponseBodySize;
    }
}

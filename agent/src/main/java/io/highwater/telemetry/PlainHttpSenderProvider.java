package io.highwater.telemetry;

import io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.opentelemetry.sdk.common.export.ProxyOptions;
import io.opentelemetry.sdk.common.export.RetryPolicy;

import java.net.URI;
import java.security.Provider;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The exporter's HTTP sender (the JDK's {@code HttpClient}, through OpenTelemetry's own provider), which keeps the
 * JDK's TLS machinery out of a JVM that exports to a plain {@code http://} endpoint. A {@code HttpClient} built
 * without an {@link SSLContext} asks for {@link SSLContext#getDefault()}: the JSSE provider, its cipher suites and
 * the trust store, ~180 classes and ~300 ms of CPU, though no byte of TLS is ever spoken. For an {@code http://}
 * endpoint without TLS settings of its own, the client gets a context that cannot do TLS instead; {@code https://}
 * endpoints are left exactly as OpenTelemetry configures them. Registered as the only
 * {@link HttpSenderProvider} of the agent's SDK (the build drops the JDK sender's own registration).
 */
public final class PlainHttpSenderProvider implements HttpSenderProvider {

    private final JdkHttpSenderProvider jdk = new JdkHttpSenderProvider();

    @Override
    public HttpSender createSender(HttpSenderConfig config) {
        return jdk.createSender(effective(config));
    }

    /** {@code config}, or for a plain-http endpoint without TLS settings, the same without TLS. */
    static HttpSenderConfig effective(HttpSenderConfig config) {
        URI endpoint = config.getEndpoint();
        boolean plain = endpoint != null && "http".equalsIgnoreCase(endpoint.getScheme())
                && config.getSslContext() == null;
        return plain ? new WithoutTls(config) : config;
    }

    /** The exporter's configuration, with a TLS context that is never initialised. */
    private static final class WithoutTls implements HttpSenderConfig {
        private final HttpSenderConfig c;

        WithoutTls(HttpSenderConfig c) {
            this.c = c;
        }

        @Override
        public SSLContext getSslContext() {
            return new NoTlsContext();
        }

        @Override
        public URI getEndpoint() {
            return c.getEndpoint();
        }

        @Override
        public String getContentType() {
            return c.getContentType();
        }

        @Override
        public Compressor getCompressor() {
            return c.getCompressor();
        }

        @Override
        public Duration getTimeout() {
            return c.getTimeout();
        }

        @Override
        public Duration getConnectTimeout() {
            return c.getConnectTimeout();
        }

        @Override
        public Supplier<Map<String, List<String>>> getHeadersSupplier() {
            return c.getHeadersSupplier();
        }

        @Override
        public ProxyOptions getProxyOptions() {
            return c.getProxyOptions();
        }

        @Override
        public RetryPolicy getRetryPolicy() {
            return c.getRetryPolicy();
        }

        @Override
        public X509TrustManager getTrustManager() {
            return c.getTrustManager();
        }

        @Override
        public ExecutorService getExecutorService() {
            return c.getExecutorService();
        }

        @Override
        public long getMaxResponseBodySize() {
            return c.getMaxResponseBodySize();
        }

        @Override
        public List<String> getEnabledProtocols() {
            return c.getEnabledProtocols();
        }
    }

    /**
     * An {@link SSLContext} for a client that only ever speaks plain HTTP: the client reads its default parameters
     * when it is built, and nothing else. Anything that would actually need TLS fails loudly.
     */
    static final class NoTlsContext extends SSLContext {
        NoTlsContext() {
            super(new NoTls(), new NoTlsProvider(), "none");
        }
    }

    private static final class NoTlsProvider extends Provider {
        private static final long serialVersionUID = 1L;

        NoTlsProvider() {
            super("highwater-plain-http", "1", "no TLS: the agent exports to a plain http endpoint");
        }
    }

    private static final class NoTls extends SSLContextSpi {

        private static UnsupportedOperationException noTls() {
            return new UnsupportedOperationException("highwater exports to a plain http endpoint: no TLS here");
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random) {
            // nothing to set up: this context never makes a TLS connection
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return new SSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return new SSLParameters();
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            throw noTls();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            throw noTls();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            throw noTls();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            throw noTls();
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            throw noTls();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            throw noTls();
        }
    }
}

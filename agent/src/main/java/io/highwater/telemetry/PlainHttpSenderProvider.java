package io.highwater.telemetry;

import io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;

import java.net.URI;

/**
 * The exporter's HTTP sender, registered as the only {@link HttpSenderProvider} of the agent's SDK (the build drops
 * the JDK sender's own registration). A plain {@code http://} endpoint without TLS settings gets
 * {@link BlockingHttpSender}, which keeps the export off the java.base code a NIO transport writes through, and
 * keeps the JDK's TLS machinery out of the JVM (the JSSE provider, its cipher suites and the trust store, ~180
 * classes and ~300 ms of CPU that the JDK's {@code HttpClient} loads even for plain http). {@code https://}
 * endpoints, and endpoints with TLS settings of their own, get OpenTelemetry's own JDK {@code HttpClient} sender
 * exactly as configured.
 */
public final class PlainHttpSenderProvider implements HttpSenderProvider {

    private final JdkHttpSenderProvider jdk = new JdkHttpSenderProvider();

    @Override
    public HttpSender createSender(HttpSenderConfig config) {
        return plain(config) ? new BlockingHttpSender(config) : jdk.createSender(config);
    }

    static boolean plain(HttpSenderConfig config) {
        URI endpoint = config.getEndpoint();
        return endpoint != null && "http".equalsIgnoreCase(endpoint.getScheme()) && config.getSslContext() == null;
    }
}

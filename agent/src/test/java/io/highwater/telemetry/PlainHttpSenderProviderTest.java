package io.highwater.telemetry;

import org.junit.jupiter.api.Test;

import java.security.NoSuchAlgorithmException;
import javax.net.ssl.SSLContext;

import static org.assertj.core.api.Assertions.assertThat;

class PlainHttpSenderProviderTest {

    @Test
    void aPlainHttpEndpointGetsTheBlockingSenderAndTlsTheJdkOne() throws NoSuchAlgorithmException {
        PlainHttpSenderProvider provider = new PlainHttpSenderProvider();
        SenderConfig plain = new SenderConfig("http://127.0.0.1:4318/v1/metrics");
        assertThat(provider.createSender(plain)).isInstanceOf(BlockingHttpSender.class);
        SenderConfig https = new SenderConfig("https://collector.example:4318/v1/metrics");
        assertThat(provider.createSender(https)).isNotInstanceOf(BlockingHttpSender.class);
        SenderConfig ownTls = new SenderConfig("http://127.0.0.1:4318/v1/metrics");
        ownTls.ssl = SSLContext.getInstance("TLS");
        assertThat(PlainHttpSenderProvider.plain(ownTls)).isFalse();
    }
}

package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The servlet endpoints on a real embedded Tomcat, in-process, without the agent. */
class ServletServerTest {

    private static ServletServer service;

    @BeforeAll
    static void start() throws Exception {
        service = ServletServer.start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"blocking", "respecting"})
    void theWellBehavedEndpointsStreamTheExactExport(String endpoint) throws Exception {
        long size = 1_000_003;
        byte[] response = RawHttp.get(service.port(), "/servlet/" + endpoint + "?bytes=" + size);
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        assertThat(text).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + size);
        byte[] body = java.util.Arrays.copyOfRange(response, headEnd + 4, response.length);
        assertThat(body).isEqualTo(CsvExportTest.readAll(new CsvExport(size), 8192));
    }

    @Test
    void theIgnoringEndpointBreaksOffWhenTomcatRefusesAWriteWhileNotReady() throws Exception {
        // a phone with a small receive buffer: the socket fills within the first rows, isReady() turns false, and
        // the next write is refused
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        SlowClient.Options options = new SlowClient.Options()
                .target("127.0.0.1", service.port(), "/servlet/ignoring?bytes=64m").rate(1L << 20).quiet(true);
        options.out = new PrintStream(printed, true, "UTF-8");
        SlowClient.Result result = new SlowClient(options).download();
        assertThat(result.status).isEqualTo(200);
        assertThat(result.complete).isFalse();
        assertThat(result.bodyBytes).isPositive().isLessThan(64L << 20);
    }
}

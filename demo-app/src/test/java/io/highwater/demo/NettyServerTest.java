package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The service in-process against a fast client: both endpoints send the exact export; /health answers. */
class NettyServerTest {

    @ParameterizedTest
    @ValueSource(strings = {"respecting", "ignoring"})
    void bothEndpointsStreamTheExactExport(String endpoint) throws Exception {
        try (NettyServer service = NettyServer.start(new NettyServer.Config().port(0)
                .statusInterval(0))) {
            long size = 1_000_003;
            byte[] response = RawHttp.get(service.port(), "/export/" + endpoint + "?bytes=" + size);
            String text = new String(response, StandardCharsets.ISO_8859_1);
            int headEnd = text.indexOf("\r\n\r\n");
            assertThat(text).startsWith("HTTP/1.1 200 OK").contains("content-length: " + size);
            byte[] body = java.util.Arrays.copyOfRange(response, headEnd + 4, response.length);
            assertThat(body).isEqualTo(CsvExportTest.readAll(new CsvExport(size), 8192));

            assertThat(new String(RawHttp.get(service.port(), "/health"), StandardCharsets.US_ASCII))
                    .startsWith("HTTP/1.1 200 OK").endsWith("ok\n");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "auto"})
    void theSlowClientReadsToTheEndOfTheBody(String transport) throws Exception {
        try (NettyServer service = NettyServer.start(new NettyServer.Config().port(0)
                .transport(transport).statusInterval(0))) {
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            SlowClient.Options options = new SlowClient.Options()
                    .target("127.0.0.1", service.port(), "/export/respecting?bytes=300k")
                    .rate(20L << 20).quiet(true);
            options.out = new PrintStream(printed, true, "UTF-8");
            SlowClient.Result result = new SlowClient(options).download();
            assertThat(result.status).isEqualTo(200);
            assertThat(result.complete).isTrue();
            assertThat(result.bodyBytes).isEqualTo(300 * 1024);
            assertThat(printed.toString("UTF-8")).contains("[slow-client] done: 300.0 KiB");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"respecting", "ignoring"})
    void aProductionRateSlowsTheExportDown(String endpoint) throws Exception {
        try (NettyServer service = NettyServer.start(new NettyServer.Config().port(0)
                .statusInterval(0))) {
            long start = System.nanoTime();
            byte[] response = RawHttp.get(service.port(), "/export/" + endpoint + "?bytes=256k&rate=1m");
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            String text = new String(response, StandardCharsets.ISO_8859_1);
            int headEnd = text.indexOf("\r\n\r\n");
            assertThat(response.length - headEnd - 4).isEqualTo(256 * 1024);
            // 256 KiB at 1 MiB/s cannot arrive in much less than a quarter of a second (a lower bound only)
            assertThat(elapsedMillis).isGreaterThanOrEqualTo(200);

            assertThat(new String(RawHttp.get(service.port(), "/export/" + endpoint + "?bytes=1k&rate=fast"),
                    StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 400");
        }
    }
}

package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The plain-socket endpoint on a real {@link java.net.ServerSocket}, in-process, without the agent. */
class SocketServerTest {

    private static SocketServer service;

    @BeforeAll
    static void start() throws Exception {
        service = SocketServer.start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void streamsTheExactExportWithAContentLengthAndCloses() throws Exception {
        long size = 1_000_003;
        byte[] response = RawHttp.get(service.port(), "/socket/export?bytes=" + size);
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        assertThat(text.substring(0, headEnd)).startsWith("HTTP/1.1 200 OK\r\n")
                .contains("\r\nContent-Length: " + size + "\r\n").contains("\r\nConnection: close");
        byte[] body = Arrays.copyOfRange(response, headEnd + 4, response.length);
        assertThat(body).isEqualTo(CsvExportTest.readAll(new CsvExport(size), 8192));
    }

    @Test
    void aSlowClientGetsTheWholeExportAtItsOwnPace() throws Exception {
        // the phone's small receive buffer: the writing thread waits in write() for most of the download
        SlowClient.Options options = new SlowClient.Options()
                .target("127.0.0.1", service.port(), "/socket/export?bytes=3m").rate(4L << 20).quiet(true);
        options.out = new java.io.PrintStream(new ByteArrayOutputStream(), true, "UTF-8");
        SlowClient.Result result = new SlowClient(options).download();
        assertThat(result.status).isEqualTo(200);
        assertThat(result.complete).isTrue();
        assertThat(result.bodyBytes).isEqualTo(3L << 20);
    }

    @Test
    void otherPathsAndMethodsGetShortAnswers() throws Exception {
        assertThat(new String(RawHttp.get(service.port(), "/export/ignoring"), StandardCharsets.US_ASCII))
                .startsWith("HTTP/1.1 404 ").endsWith("try /socket/export?bytes=N\n");
        assertThat(new String(RawHttp.get(service.port(), "/socket/export?bytes=lots"), StandardCharsets.US_ASCII))
                .startsWith("HTTP/1.1 400 ");
        try (Socket s = new Socket("127.0.0.1", service.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("POST /socket/export HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .startsWith("HTTP/1.1 405 ");
        }
    }
}

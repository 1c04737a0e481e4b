package io.highwater.demo;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A one-shot HTTP/1.1 GET on a plain socket: the whole response, head and body, as the server sent it. */
final class RawHttp {

    private RawHttp() {
    }

    static byte[] get(int port, String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return in.readAllBytes();
        }
    }
}

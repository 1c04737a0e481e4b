package io.highwater.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;

/** A plain HTTP GET against a test server on 127.0.0.1, for small text answers. */
public final class Http {

    private Http() {
    }

    /** The body of {@code GET http://127.0.0.1:<port><path>}; fails unless the answer is 200. */
    public static String get(int port, String path) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
            c.setConnectTimeout(10_000);
            c.setReadTimeout(60_000);
            try {
                int status = c.getResponseCode();
                if (status != 200) {
                    throw new AssertionError("GET :" + port + path + " answered " + status);
                }
                try (InputStream in = c.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("GET :" + port + path, e);
        }
    }
}

package io.highwater.bench.stream;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in OTLP/HTTP receiver for bench/scripts/streaming.sh: accepts every POST (metrics, traces) with
 * {@code 200} and an empty protobuf response, so that the agent in the measured server exports as it would to a
 * collector, at no cost to the server beyond its own export. Prints {@code port <p>} once listening and one line
 * per request received ({@code export <path> <bytes>}).
 *
 * <p>Usage: {@code OtlpSink}
 */
public final class OtlpSink {

    private OtlpSink() {
    }

    public static void main(String[] args) throws IOException {
        AtomicLong requests = new AtomicLong();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", exchange -> {
            long bytes = 0;
            try (InputStream in = exchange.getRequestBody()) {
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) > 0; ) {
                    bytes += n;
                }
            }
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
            requests.incrementAndGet();
            System.out.println("export " + exchange.getRequestURI().getPath() + " " + bytes);
            System.out.flush();
        });
        server.start();
        System.out.println("port " + server.getAddress().getPort());
        System.out.flush();
    }
}

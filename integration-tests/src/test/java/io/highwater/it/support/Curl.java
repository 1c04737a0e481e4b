package io.highwater.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP/2 client for the tests: {@code curl --http2-prior-knowledge --limit-rate <rate>} against
 * {@code http://127.0.0.1:<port><path>} (h2c without an upgrade), the body thrown away, at most 300 s. curl grants a
 * large flow-control window (32 MiB for the connection), so the stop it causes comes from its reading rate, through
 * the socket. Closing it kills curl if it still runs. {@link #h2Tls} is the same over TLS.
 */
public final class Curl implements AutoCloseable {

    private final Process process;

    private Curl(Process process) {
        this.process = process;
    }

    public static Curl h2PriorKnowledge(int port, String path, String rate) {
        return start(List.of("--http2-prior-knowledge"), "http://127.0.0.1:" + port + path, rate);
    }

    /**
     * HTTP/2 over TLS as browsers and production clients reach it: {@code curl --http2 -k} against
     * {@code https://127.0.0.1:<port><path>}, h2 chosen by ALPN, the server's self-signed certificate accepted.
     */
    public static Curl h2Tls(int port, String path, String rate) {
        return start(List.of("--http2", "-k"), "https://127.0.0.1:" + port + path, rate);
    }

    private static Curl start(List<String> protocol, String url, String rate) {
        List<String> command = new ArrayList<>(List.of("curl"));
        command.addAll(protocol);
        command.addAll(List.of("--limit-rate", rate, "-s", "-o", "/dev/null", "--max-time", "300", url));
        try {
            return new Curl(new ProcessBuilder(command).redirectErrorStream(true).start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start curl (the tests need it on the PATH)", e);
        }
    }

    /** curl's exit code once it ended (0: the whole body read), waiting at most its own time limit. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(310, TimeUnit.SECONDS)) {
            throw new AssertionError("curl did not end within its own --max-time");
        }
        return process.exitValue();
    }

    /** Whether curl still reads: what a test measured was a stream still being consumed, not one cut off. */
    public boolean isReading() {
        return process.isAlive();
    }

    /** curl gives up: it closes the connection as a client that goes away does. */
    public void giveUp() {
        process.destroyForcibly();
    }

    @Override
    public void close() {
        giveUp();
    }
}

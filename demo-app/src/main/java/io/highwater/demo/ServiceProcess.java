package io.highwater.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reporting service ({@code serve}) in a child JVM, as the scenario runs it: its command line, its output, its
 * end.
 *
 * <p>Its stdout and stderr are forwarded line by line, prefixed {@code [service]}; the agent's own lines already start
 * with {@code [highwater]} and are forwarded as they are. The service's lines are also kept, so that a phase can look
 * for what the service said about its download ({@link #mark}, {@link #find}, {@link #await}): the scenario runs for a
 * minute or two, and the service prints a few lines per download.
 */
final class ServiceProcess {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Process process;
    private final Narrator narrator;
    private final Thread killer;
    private final Thread stdout;
    private final Thread stderr;
    /** The service's lines (the agent's aside), guarded by itself. */
    private final List<Seen> lines = new ArrayList<>();
    private volatile boolean agentSpoke;
    private volatile int port = -1;

    /** A line of the service's, when it arrived, and what a pattern found in it. */
    static final class Seen {
        final String line;
        final long nanos;
        private Matcher match;

        private Seen(String line, long nanos) {
            this.line = line;
            this.nanos = nanos;
        }

        String group(int group) {
            return match.group(group);
        }
    }

    private ServiceProcess(Process process, Narrator narrator) {
        this.process = process;
        this.narrator = narrator;
        killer = new Thread(process::destroyForcibly, "scenario-stop-service");
        Runtime.getRuntime().addShutdownHook(killer);
        try {
            process.getOutputStream().close(); // the service reads no input
        } catch (IOException ignored) {
            // nothing to close
        }
        stdout = forward(process.getInputStream(), "service-stdout");
        stderr = forward(process.getErrorStream(), "service-stderr");
    }

    /** The child's command line: {@code serve} on free ports, with the agent unless it is off. */
    static List<String> command(ScenarioOptions o, String agentOptions, List<String> serveArgs) {
        List<String> command = new ArrayList<>(Arrays.asList(o.java, "-Xmx" + o.xmx,
                "-XX:MaxDirectMemorySize=" + o.maxDirect));
        if (o.defaultJava && Runtime.version().feature() >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED"); // the epoll transport loads a JNI library
        }
        if (o.withAgent) {
            command.add("-javaagent:" + o.agent + "=" + agentOptions);
        }
        command.addAll(o.jvmArgs);
        command.addAll(Arrays.asList("-cp", ownClassPath(), Main.class.getName(), "serve", "--port", "0",
                "--transport", o.transport, "--status-interval", o.statusInterval));
        command.addAll(serveArgs);
        return command;
    }

    static ServiceProcess start(List<String> command, Narrator narrator) throws IOException {
        return new ServiceProcess(new ProcessBuilder(command).start(), narrator);
    }

    /** Waits until the service listens and returns its Netty port; throws, saying why, when it does not. */
    int awaitListening(long timeoutNanos) {
        Pattern listening = listeningLine(ReportingService.LISTENING);
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            Seen seen = find(0, listening);
            if (seen != null) {
                port = Integer.parseInt(seen.group(1));
                return port;
            }
            if (!process.isAlive()) {
                Stage.sleep(TimeUnit.MILLISECONDS.toNanos(300)); // let the forwarders print its last words first
                throw new IllegalStateException("the service exited (code " + process.exitValue()
                        + ") before it printed LISTENING; its output is above");
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the service did not print LISTENING within "
                        + Units.seconds(timeoutNanos));
            }
            Stage.sleep(2 * POLL_NANOS);
        }
    }

    /** The port of the line {@code prefix + port} (e.g. {@link ReportingService#SERVLET_LISTENING}), or null. */
    Integer port(String prefix) {
        Seen seen = await(0, listeningLine(prefix), TimeUnit.SECONDS.toNanos(1));
        return seen == null ? null : Integer.valueOf(seen.group(1));
    }

    private static Pattern listeningLine(String prefix) {
        return Pattern.compile("^" + Pattern.quote(prefix) + "(\\d{1,5})\\s*$");
    }

    /** Where the lines from now on begin, for {@link #find} and {@link #await}. */
    int mark() {
        synchronized (lines) {
            return lines.size();
        }
    }

    /** The first line from {@code from} on in which {@code pattern} finds something, or null. */
    Seen find(int from, Pattern pattern) {
        synchronized (lines) {
            for (int i = from; i < lines.size(); i++) {
                Seen seen = lines.get(i);
                Matcher m = pattern.matcher(seen.line);
                if (m.find()) {
                    Seen found = new Seen(seen.line, seen.nanos);
                    found.match = m;
                    return found;
                }
            }
            return null;
        }
    }

    /** The service's lines from {@code from} on. */
    List<String> linesSince(int from) {
        List<String> out = new ArrayList<>();
        synchronized (lines) {
            for (int i = from; i < lines.size(); i++) {
                out.add(lines.get(i).line);
            }
        }
        return out;
    }

    /** As {@link #find}, waiting up to {@code timeoutNanos} for the line. */
    Seen await(int from, Pattern pattern, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        Seen seen;
        while ((seen = find(from, pattern)) == null && System.nanoTime() < deadline) {
            Stage.sleep(POLL_NANOS);
        }
        return seen;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    int exitValue() {
        return process.exitValue();
    }

    /** Whether the agent printed anything (its lines start with {@code [highwater]}). */
    boolean agentSpoke() {
        return agentSpoke;
    }

    /** {@code GET /health} on the Netty port: the status and how long the answer took, or what went wrong. */
    String health() {
        long start = System.nanoTime();
        try (Socket s = new Socket()) {
            s.setSoTimeout(5000);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            OutputStream o = s.getOutputStream();
            o.write(("GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            o.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII));
            String status = in.readLine();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (status == null) {
                return "no answer (connection closed)";
            }
            String[] parts = status.split(" ", 3);
            return (parts.length > 1 ? parts[1] : status) + " in " + ms + " ms";
        } catch (IOException e) {
            return "failed: " + e;
        }
    }

    /**
     * Stops the service: SIGTERM, then SIGKILL after two seconds (the agent may try a last export to a collector
     * that is not there; the demo does not wait for it). Returns once its last lines are forwarded.
     */
    void stop() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        join(stdout);
        join(stderr);
        try {
            Runtime.getRuntime().removeShutdownHook(killer);
        } catch (IllegalStateException ignored) {
            // already shutting down
        }
    }

    private Thread forward(InputStream stream, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    onLine(line);
                }
            } catch (IOException ignored) {
                // the service is gone
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void onLine(String line) {
        if (line.startsWith("[highwater]")) {
            agentSpoke = true;
            narrator.say(line);
            if (line.startsWith("[highwater] guard: ")) {
                // the guard's actions (--guard): the ignoring phase looks for them as for the service's own lines
                synchronized (lines) {
                    lines.add(new Seen(line, System.nanoTime()));
                }
            }
            return;
        }
        narrator.say("[service] " + line);
        // kept after it is printed: a phase that waits for it goes on only once it is on screen
        synchronized (lines) {
            lines.add(new Seen(line, System.nanoTime()));
        }
    }

    private static void join(Thread t) {
        try {
            t.join(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The jar this class was loaded from (the shaded demo jar): the child runs the same code. From a classes
     * directory (tests, an IDE) the dependencies are elsewhere: this JVM's class path then.
     */
    private static String ownClassPath() {
        try {
            Path own = Paths.get(ServiceProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isDirectory(own) ? System.getProperty("java.class.path") : own.toString();
        } catch (URISyntaxException | RuntimeException e) {
            return System.getProperty("java.class.path");
        }
    }
}

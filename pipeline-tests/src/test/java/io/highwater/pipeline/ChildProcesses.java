package io.highwater.pipeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The child processes of one test class: each one's stdout and stderr go, line by line, to its own log file (and to
 * an optional line listener); {@link #close()} stops them all, newest first — SIGTERM, a grace period, then SIGKILL,
 * descendants included. A shutdown hook does the same if the test JVM is stopped early.
 */
final class ChildProcesses implements AutoCloseable {
    private final List<Child> children = Collections.synchronizedList(new ArrayList<>());
    private final Thread shutdownHook = new Thread(this::close, "pipeline-tests-cleanup");

    ChildProcesses() {
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** A started child: its process, its log file, and the thread that copies its output there. */
    record Child(String name, Process process, Path log, Thread pump) {
        boolean alive() {
            return process.isAlive();
        }

        /** Waits until all of the child's output is in its log (the child has exited), at most {@code timeout}. */
        void awaitOutput(java.time.Duration timeout) {
            try {
                pump.join(Math.max(1, timeout.toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        String describe() {
            return name + " (pid " + process.pid() + (process.isAlive() ? "" : ", exited " + process.exitValue())
                    + ", log " + log + ")";
        }
    }

    Child start(String name, List<String> command, Map<String, String> environment, Path directory, Path log,
            Consumer<String> lineListener) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
        // nothing of this JVM's OpenTelemetry or highwater settings may leak into a child
        pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_") || k.startsWith("HIGHWATER_")
                || k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS"));
        pb.environment().putAll(environment);
        Process p;
        try {
            Files.createDirectories(log.getParent());
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name + ": " + command, e);
        }
        Path logFile = log;
        Thread pump = new Thread(() -> pump(p, logFile, lineListener), name + "-output");
        pump.setDaemon(true);
        Child child = new Child(name, p, log, pump);
        children.add(child);
        pump.start();
        return child;
    }

    private static void pump(Process process, Path log, Consumer<String> lineListener) {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.println(line);
                if (lineListener != null) {
                    try {
                        lineListener.accept(line);
                    } catch (RuntimeException ignored) {
                        // a listener's problem must not stop the log
                    }
                }
            }
        } catch (IOException ignored) {
            // the process went away
        }
    }

    /** Everything still running, for failure messages. */
    String describeAll() {
        StringBuilder sb = new StringBuilder();
        synchronized (children) {
            for (Child c : children) {
                sb.append("\n  ").append(c.describe());
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        List<Child> toStop;
        synchronized (children) {
            toStop = new ArrayList<>(children);
            children.clear();
        }
        Collections.reverse(toStop);
        for (Child c : toStop) {
            List<ProcessHandle> descendants = c.process().descendants().toList();
            c.process().destroy();
            descendants.forEach(ProcessHandle::destroy);
        }
        for (Child c : toStop) {
            try {
                if (!c.process().waitFor(10, TimeUnit.SECONDS)) {
                    c.process().descendants().forEach(ProcessHandle::destroyForcibly);
                    c.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                c.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // already shutting down: this is the hook
        }
    }

    /** A port that was free a moment ago on 127.0.0.1 (the child binds it right after). */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Completes with the first line that starts with the prefix (the rest of the line). */
    static Consumer<String> firstLineStartingWith(String prefix, CompletableFuture<String> result) {
        return line -> {
            if (!result.isDone() && line.startsWith(prefix)) {
                result.complete(line.substring(prefix.length()).strip());
            }
        };
    }
}

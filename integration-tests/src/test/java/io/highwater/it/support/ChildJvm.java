package io.highwater.it.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Java process started for one test: {@code <java.home>/bin/java <jvm args> -cp <class path> <main> <args>}.
 *
 * <p>Its stdout and stderr are read line by line on two daemon threads, kept (thread-safe) and echoed to this
 * JVM's stdout prefixed with {@code [name out]} / {@code [name err]}, so a CI log shows what the child said.
 * Waits ({@link #awaitStdout}, {@link #awaitListening}) block on a condition signalled by every new line and by
 * the end of the streams; their timeout only guards against hanging forever. A child that exits while a test
 * waits for a line fails the wait at once, with its output.
 *
 * <p>Environment: the child inherits this JVM's environment <em>except</em> variables that would change what is
 * under test behind the test's back: {@code OTEL_*}, {@code HIGHWATER_*}, {@code JAVA_TOOL_OPTIONS},
 * {@code JDK_JAVA_OPTIONS}, {@code _JAVA_OPTIONS} and {@code CLASSPATH}. A test sets what it needs with
 * {@link Builder#env} and can remove anything else with {@link Builder#removeEnv}.
 *
 * <p>{@link #close()} asks the process to stop (SIGTERM), waits a grace period, then kills it.
 */
public final class ChildJvm implements AutoCloseable {

    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(60);
    private static final Duration GRACE = Duration.ofSeconds(10);
    private static final Pattern LISTENING = Pattern.compile("^LISTENING (\\d+)$");
    private static final Set<String> SCRUBBED = Set.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS",
            "CLASSPATH");

    private final String name;
    private final Process process;
    private final List<String> command;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<String> stdout = new ArrayList<>();
    private final List<String> stderr = new ArrayList<>();
    private int streamsOpen = 2;
    private final Thread outReader;
    private final Thread errReader;

    private ChildJvm(String name, Process process, List<String> command) {
        this.name = name;
        this.process = process;
        this.command = command;
        PrintStream echo = System.out;
        this.outReader = reader(process.getInputStream(), stdout, "[" + name + " out] ", echo);
        this.errReader = reader(process.getErrorStream(), stderr, "[" + name + " err] ", echo);
        outReader.start();
        errReader.start();
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    private Thread reader(InputStream in, List<String> sink, String prefix, PrintStream echo) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    echo.println(prefix + line);
                    lock.lock();
                    try {
                        sink.add(line);
                        changed.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
            } catch (IOException e) {
                echo.println(prefix + "<stream failed: " + e + ">");
            } finally {
                lock.lock();
                try {
                    streamsOpen--;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }, "child-" + name + (prefix.contains(" out]") ? "-stdout" : "-stderr"));
        t.setDaemon(true);
        return t;
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public List<String> command() {
        return command;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The lines the child printed on stdout so far. */
    public List<String> stdout() {
        lock.lock();
        try {
            return List.copyOf(stdout);
        } finally {
            lock.unlock();
        }
    }

    /** The lines the child printed on stderr so far. */
    public List<String> stderr() {
        lock.lock();
        try {
            return List.copyOf(stderr);
        } finally {
            lock.unlock();
        }
    }

    /** Waits for a {@code LISTENING <port>} line on stdout and returns the port. */
    public int awaitListening() {
        Matcher m = LISTENING.matcher(awaitStdout("a line 'LISTENING <port>'", l -> LISTENING.matcher(l).matches()));
        if (!m.matches()) {
            throw new IllegalStateException();
        }
        return Integer.parseInt(m.group(1));
    }

    /** Waits for a stdout line starting with {@code prefix + " "} and returns the rest of it. */
    public String awaitStdoutValue(String prefix) {
        String line = awaitStdout("a line '" + prefix + " ...'", l -> l.startsWith(prefix + " "));
        return line.substring(prefix.length() + 1);
    }

    public String awaitStdout(String description, Predicate<String> condition) {
        return await(stdout, "stdout", description, condition, DEFAULT_WAIT);
    }

    public String awaitStderr(String description, Predicate<String> condition) {
        return await(stderr, "stderr", 0, description, condition, DEFAULT_WAIT);
    }

    /** As {@link #awaitStderr}, among the lines from index {@code from} on (see {@link #stderr()}'s size). */
    public String awaitStderrFrom(int from, String description, Predicate<String> condition) {
        return await(stderr, "stderr", from, description, condition, DEFAULT_WAIT);
    }

    /**
     * Waits up to {@code guard} for a stdout line that {@code out} accepts or a stderr line that {@code err} accepts
     * (what a child says on either stream: an OutOfMemoryError is printed by the app, or by the JVM when even that
     * failed), and returns it.
     */
    public String awaitOutput(String description, Predicate<String> out, Predicate<String> err, Duration guard) {
        int[] next = new int[2];
        return awaitLine(description, "", guard, () -> {
            String found = scan(stdout, next, 0, out);
            return found != null ? found : scan(stderr, next, 1, err);
        });
    }

    private String await(List<String> lines, String which, String description, Predicate<String> condition,
                         Duration guard) {
        return await(lines, which, 0, description, condition, guard);
    }

    private String await(List<String> lines, String which, int from, String description,
                         Predicate<String> condition, Duration guard) {
        int[] next = {from};
        return awaitLine(description, " on " + which, guard, () -> scan(lines, next, 0, condition));
    }

    /** The first line of {@code lines} from index {@code next[at]} on that {@code condition} accepts, or null. */
    private static String scan(List<String> lines, int[] next, int at, Predicate<String> condition) {
        for (; next[at] < lines.size(); next[at]++) {
            if (condition.test(lines.get(next[at]))) {
                return lines.get(next[at]);
            }
        }
        return null;
    }

    /** Waits up to {@code guard} until {@code find}, asked under the lock at every change, returns a line. */
    private String awaitLine(String description, String where, Duration guard, Supplier<String> find) {
        long deadline = System.nanoTime() + guard.toNanos();
        lock.lock();
        try {
            while (true) {
                String found = find.get();
                if (found != null) {
                    return found;
                }
                if (streamsOpen == 0) {
                    throw new AssertionError(name + " ended (exit code " + exitCodeOrNull() + ") without printing "
                            + description + where + "\n" + transcriptLocked());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(name + " did not print " + description + where
                            + " (gave up after " + guard.toSeconds() + " s)\n" + transcriptLocked());
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + description, e);
        } finally {
            lock.unlock();
        }
    }

    /** Writes {@code text} to the child's stdin. */
    public void writeStdin(String text) {
        try {
            process.getOutputStream().write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("stdin of " + name, e);
        }
    }

    /** Waits for the process to end on its own and returns its exit code. */
    public int awaitExit() {
        try {
            if (!process.waitFor(DEFAULT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(name + " did not exit (gave up after " + DEFAULT_WAIT.toSeconds() + " s)\n"
                        + transcript());
            }
            outReader.join(GRACE.toMillis());
            errReader.join(GRACE.toMillis());
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private Integer exitCodeOrNull() {
        return process.isAlive() ? null : process.exitValue();
    }

    /** Command line and everything printed so far, for failure messages. */
    public String transcript() {
        lock.lock();
        try {
            return transcriptLocked();
        } finally {
            lock.unlock();
        }
    }

    private String transcriptLocked() {
        return "--- " + name + ": " + String.join(" ", command) + "\n--- stdout:\n" + String.join("\n", stdout)
                + "\n--- stderr:\n" + String.join("\n", stderr) + "\n---";
    }

    @Override
    public void close() {
        // a wrapper (unshare, say) may have forked the JVM: it goes too, whatever the wrapper does with signals
        List<ProcessHandle> descendants = process.descendants().collect(Collectors.toList());
        descendants.forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
            for (ProcessHandle d : descendants) {
                try {
                    d.onExit().get(GRACE.toMillis(), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    d.destroyForcibly();
                }
            }
            outReader.join(GRACE.toMillis());
            errReader.join(GRACE.toMillis());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Configures and starts a {@link ChildJvm}. */
    public static final class Builder {
        private final String name;
        private Path javaHome = Paths.get(System.getProperty("java.home"));
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<Path> classPath = new ArrayList<>();
        private String mainClass;
        private Path jar;
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> setEnv = new LinkedHashMap<>();
        private final Set<String> removeEnv = new LinkedHashSet<>();
        private final List<String> wrapper = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        /**
         * A command that runs the JVM, its arguments following (say, {@code unshare ... sh -c '... exec "$@"' sh}); it
         * must end by exec-ing them, so that the process is the JVM.
         */
        public Builder wrapper(List<String> command) {
            wrapper.addAll(command);
            return this;
        }

        /** The JDK or JRE to run; by default the one running the tests. */
        public Builder javaHome(Path home) {
            this.javaHome = home;
            return this;
        }

        public Builder jvmArg(String... more) {
            jvmArgs.addAll(List.of(more));
            return this;
        }

        public Builder classPath(Path... entries) {
            classPath.addAll(List.of(entries));
            return this;
        }

        public Builder classPath(List<Path> entries) {
            classPath.addAll(entries);
            return this;
        }

        /** Adds every {@code *.jar} directly inside {@code dir}, sorted by name. */
        public Builder jarsIn(Path dir) {
            return classPath(jars(dir));
        }

        public Builder mainClass(Class<?> main) {
            return mainClass(main.getName());
        }

        public Builder mainClass(String main) {
            this.mainClass = main;
            return this;
        }

        /** Runs {@code -jar <jar>} instead of a main class (and without a class path). */
        public Builder jar(Path executableJar) {
            this.jar = executableJar;
            return this;
        }

        public Builder args(String... more) {
            args.addAll(List.of(more));
            return this;
        }

        /** Sets an environment variable in the child (wins over the inherited environment and the scrubbing). */
        public Builder env(String key, String value) {
            removeEnv.remove(key);
            setEnv.put(key, value);
            return this;
        }

        /** Makes sure the child does not have this environment variable. */
        public Builder removeEnv(String key) {
            setEnv.remove(key);
            removeEnv.add(key);
            return this;
        }

        public ChildJvm start() {
            if ((mainClass == null) == (jar == null)) {
                throw new IllegalStateException("give either a main class or a jar");
            }
            List<String> cmd = new ArrayList<>(wrapper);
            cmd.add(javaHome.resolve("bin").resolve("java").toString());
            cmd.addAll(jvmArgs);
            if (!classPath.isEmpty()) {
                cmd.add("-cp");
                cmd.add(classPath.stream().map(Path::toString).collect(Collectors.joining(java.io.File.pathSeparator)));
            }
            if (jar != null) {
                cmd.add("-jar");
                cmd.add(jar.toString());
            } else {
                cmd.add(mainClass);
            }
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd);
            Map<String, String> env = pb.environment();
            env.keySet().removeIf(k -> k.startsWith("OTEL_") || k.startsWith("HIGHWATER_") || SCRUBBED.contains(k));
            env.keySet().removeAll(removeEnv);
            env.putAll(setEnv);
            try {
                System.out.println("[" + name + "] starting: " + String.join(" ", cmd)
                        + (setEnv.isEmpty() ? "" : " with environment " + setEnv));
                return new ChildJvm(name, pb.start(), List.copyOf(cmd));
            } catch (IOException e) {
                throw new IllegalStateException("cannot start " + cmd, e);
            }
        }
    }

    /** The {@code *.jar} files directly inside {@code dir}, sorted by name; fails if there are none. */
    public static List<Path> jars(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> jars = s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted()
                    .collect(Collectors.toList());
            if (jars.isEmpty()) {
                throw new IllegalStateException("no jars in " + dir);
            }
            return jars;
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + dir + " (did the build copy the jars?)", e);
        }
    }
}

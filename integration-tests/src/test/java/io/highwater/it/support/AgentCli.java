package io.highwater.it.support;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent jar's command line, {@code java -jar <agent jar> <args>}, run to its end in a child JVM on the same
 * java as the tests (a JDK: the command line needs the {@code jdk.attach} module).
 */
public final class AgentCli {

    private static final AtomicInteger RUNS = new AtomicInteger();

    private AgentCli() {
    }

    /** What one run of the command line did. */
    public record Result(List<String> command, int exitCode, List<String> stdout, List<String> stderr) {

        public String out() {
            return String.join("\n", stdout);
        }

        public String err() {
            return String.join("\n", stderr);
        }

        /** Both streams, for assertions that do not care where a message went. */
        public String all() {
            return out() + "\n" + err();
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " -> exit " + exitCode + "\n--- stdout:\n" + out() + "\n--- stderr:\n"
                    + err();
        }
    }

    public static Result run(String... args) {
        ChildJvm child = ChildJvm.builder("cli-" + RUNS.incrementAndGet() + "-" + (args.length > 0 ? args[0] : ""))
                .jar(ItEnv.agentJar()).args(args).start();
        try {
            int code = child.awaitExit();
            return new Result(child.command(), code, child.stdout(), child.stderr());
        } finally {
            child.close();
        }
    }
}

package io.highwater.demo;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * The scenario's own options: the service's JVM, the agent, the live view and the phone. Each {@link Phase} declares
 * and reads its own beside them.
 */
final class ScenarioOptions {
    final boolean quick;
    final boolean withAgent;
    /** The agent's guard in enforce mode ({@code --guard}): the ignoring phase ends in a clean close, not a failure. */
    final boolean guard;
    final boolean withView;
    final boolean plainView;
    /** The agent prints its own console summary: without the view, or when asked to. */
    final boolean agentConsole;
    /** How fast the phone reads, bytes per second. */
    final long rate;
    /** The size of every export the phone asks for. */
    final long bytes;
    final String consoleInterval;
    final long consoleNanos;
    final String exportInterval;
    final long exportNanos;
    final long viewNanos;
    final String xmx;
    final String maxDirect;
    final long maxDirectBytes;
    final Path agent;
    /** A collector URL or {@code none}; null when not given (then a collector that listens is used). */
    final String collector;
    /** A Prometheus URL or {@code none}; null when not given (then a Prometheus that answers is used). */
    final String prometheus;
    /** More agent options, or empty. */
    final String agentOptions;
    final String java;
    final boolean defaultJava;
    final List<String> jvmArgs;
    final String transport;
    final String statusInterval;

    ScenarioOptions(Args a) {
        quick = a.has("quick");
        withAgent = !a.has("no-agent");
        guard = withAgent && a.has("guard");
        withView = withAgent && !a.has("no-view");
        plainView = a.has("plain");
        agentConsole = !withView || a.has("agent-console");
        rate = a.size("rate", "200k");
        bytes = a.size("bytes", "400m");
        consoleInterval = a.get("console-interval", "2s");
        consoleNanos = Units.parseDurationNanos(consoleInterval);
        exportInterval = a.get("export-interval", "1s");
        exportNanos = Units.parseDurationNanos(exportInterval);
        viewNanos = a.nanos("view-interval", "2s");
        xmx = a.get("xmx", "256m");
        Units.parseSize(xmx);
        maxDirect = a.get("max-direct", "128m");
        maxDirectBytes = Units.parseSize(maxDirect);
        agent = Paths.get(a.get("agent", "agent/target/highwater-agent.jar")).toAbsolutePath().normalize();
        collector = a.get("collector", null);
        prometheus = a.get("prometheus", null);
        agentOptions = a.get("agent-options", "");
        defaultJava = a.get("java", null) == null;
        java = a.get("java", Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        jvmArgs = a.all("jvm-arg");
        transport = a.get("transport", "auto");
        statusInterval = a.get("status-interval", withView ? "0" : quick ? "2s" : "5s");
    }

    /** The agent options {@code --guard} adds: enforce, with a connection limit a quarter of max direct memory. */
    String guardOptions() {
        long max = Math.max(1, maxDirectBytes / 4);
        return "guard.mode=enforce;guard.connection.max=" + (max % (1 << 20) == 0 ? (max >> 20) + "MiB" : max + "B");
    }

    /** Declares them, in the order {@code --help} lists them. */
    static void declare(OptionList o) {
        o.valued("agent", "PATH", "the agent jar (default agent/target/highwater-agent.jar)")
                .flag("no-agent", "run the service without the agent (to compare)")
                .flag("guard", "the agent's guard on (guard.mode=enforce, guard.connection.max a quarter of the max"
                        + " direct memory): the ignoring download is closed cleanly before memory runs out")
                .valued("agent-options", "OPTS", "more agent options, appended after ';' (e.g."
                        + " highwater.stall.threshold=10s)")
                .flag("no-view", "no live view: the agent exports to its default endpoint and prints its own",
                        "console summary instead")
                .flag("plain", "the live view as plain lines, even on a terminal")
                .valued("view-interval", "D", "how often the plain view prints (default 2s; in place it refreshes"
                        + " twice a second)")
                .valued("export-interval", "D", "the agent's metric export interval while the view is on (default 1s)")
                .flag("agent-console", "keep the agent's own console summary on beside the live view")
                .valued("console-interval", "D", "how often the agent prints its console summary (default 2s)")
                .valued("collector", "URL|none", "forward the agent's OTLP requests to this collector too (default:"
                        + " use", TelemetrySinks.DEFAULT_COLLECTOR + " when something listens there)")
                .valued("prometheus", "URL|none", "show this Prometheus's alerts in the view (default: "
                        + TelemetrySinks.DEFAULT_PROMETHEUS, "when it answers)")
                .valued("xmx", "SIZE", "the service's -Xmx (default 256m)")
                .valued("max-direct", "SIZE", "the service's -XX:MaxDirectMemorySize (default 128m)")
                .valued("jvm-arg", "ARG", "one more JVM argument for the service (repeatable)")
                .valued("java", "PATH", "the java for the service (default: the one running this)")
                .valued("transport", "T", "the service's transport: auto | epoll | nio (default auto)")
                .valued("rate", "SIZE", "how fast the phone reads, per second (default 200k)")
                .valued("bytes", "SIZE", "size of the export (default 400m)")
                .valued("status-interval", "D", "how often the service prints its memory while exports run (default"
                        + " 5s, 2s with --quick; off while the live view is on)");
    }
}

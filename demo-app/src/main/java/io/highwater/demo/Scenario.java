package io.highwater.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo, the {@code scenario} command: runs the reporting service ({@link ReportingService}) in a child JVM with
 * the highwater agent attached and a capped direct memory ({@link ServiceProcess}), plays the {@link #phases()} in
 * order, each a slow phone against one transport's endpoints, and sums up.
 *
 * <p>With the agent, the scenario receives what the agent exports over OTLP itself and shows it in a {@link LiveView},
 * forwarding it to a collector and showing a Prometheus's alerts when they are there ({@link TelemetrySinks}). Runs on
 * the main thread plus two forwarding threads, one phone thread and the view's, receiver's and pollers' daemon
 * threads; prints through one {@link Narrator}.
 */
public final class Scenario {
    private static final String USAGE_LINE = "usage: java -jar highwater-demo.jar scenario [options]   (./demo"
            + " [options] builds and runs this)";

    private final ScenarioOptions options;
    private final List<Phase> phases;
    private final List<String> serveArgs;
    private final Narrator narrator = new Narrator(System.out);

    private Scenario(ScenarioOptions options, List<Phase> phases, List<String> serveArgs) {
        this.options = options;
        this.phases = phases;
        this.serveArgs = serveArgs;
    }

    /** The story, in order. A new phase is one class and one line here. */
    static List<Phase> phases() {
        return Arrays.asList(
                new NettyRespectingPhase(),
                new NettyIgnoringPhase(),
                new ServletPhase(),
                new SocketPhase(),
                new GrpcPhase(),
                new VertxPhase());
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The {@code scenario} sub-command. */
    static int run(String[] args) {
        List<Phase> phases = phases();
        OptionList declared = new OptionList(USAGE_LINE);
        ScenarioOptions.declare(declared);
        for (int i = 0; i < phases.size(); i++) {
            phases.get(i).number = i + 1;
            phases.get(i).declare(declared);
        }
        declared.flag("quick", "about a minute in all (5 s and at most 8 s Netty phases, 2 s servlet downloads, a"
                + " 3 s socket download, 3 s gRPC calls, 6 s Vert.x downloads), for smoke tests").flag("help", "this text");
        ScenarioOptions options;
        List<Phase> selected = new ArrayList<>();
        List<String> serveArgs = new ArrayList<>();
        try {
            Args a = declared.parse(args);
            if (a.has("help")) {
                System.out.println(declared.help());
                return 0;
            }
            options = new ScenarioOptions(a);
            for (Phase p : phases) {
                boolean on = p.configure(a, options);
                if (on) {
                    selected.add(p);
                }
                serveArgs.addAll(p.serveArgs(on));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("scenario: " + e.getMessage());
            System.err.println(declared.help());
            return 2;
        }
        if (options.withAgent && !Files.isRegularFile(options.agent)) {
            System.err.println("scenario: the highwater agent jar is missing: " + options.agent);
            System.err.println("  build it with `mvn -q -DskipTests -pl agent -am package` from the project root"
                    + " (./demo does this for you), point --agent at it, or run without it: --no-agent");
            return 2;
        }
        return new Scenario(options, selected, serveArgs).play();
    }

    private int play() {
        TelemetrySinks sinks;
        try {
            sinks = TelemetrySinks.open(options, narrator);
        } catch (IOException e) {
            System.err.println("scenario: could not start the OTLP receiver for the live view: " + e
                    + " (run with --no-view to do without it)");
            return 1;
        }
        String agentOptions = sinks.agentOptions();
        if (options.guard) {
            agentOptions = agentOptions + (agentOptions.isEmpty() ? "" : ";") + options.guardOptions();
        }
        intro(sinks, agentOptions);
        ServiceProcess service;
        try {
            service = ServiceProcess.start(ServiceProcess.command(options, agentOptions, serveArgs), narrator);
        } catch (IOException e) {
            System.err.println("scenario: could not start " + options.java + ": " + e.getMessage());
            sinks.close();
            return 1;
        }
        try {
            return perform(new Stage(options, service, sinks, narrator), sinks);
        } finally {
            sinks.finish();
            service.stop();
            sinks.close();
        }
    }

    private void intro(TelemetrySinks sinks, String agentOptions) {
        say("");
        say("highwater demo: a reporting service streams a " + Units.size(options.bytes) + " CSV export (rows generated"
                + " on the fly); one customer downloads it over a phone at " + Units.rate(options.rate) + ".");
        say("  the service runs in a child JVM with -Xmx" + options.xmx + " -XX:MaxDirectMemorySize="
                + options.maxDirect + (options.withAgent ? " and the highwater agent:"
                : " and WITHOUT the highwater agent (--no-agent)"));
        if (options.withAgent) {
            say("    -javaagent:" + relative(options.agent) + "=" + agentOptions);
        }
        sinks.intro();
        say("  [service] lines come from the service, [highwater] lines from the agent, [phone] lines from the"
                + " slow client.");
        say("");
    }

    /** Plays the phases while the service lives, then sums up; 1 when the service did not last. */
    private int perform(Stage stage, TelemetrySinks sinks) {
        try {
            stage.service.awaitListening(TimeUnit.SECONDS.toNanos(60));
        } catch (IllegalStateException e) {
            say("scenario: " + e.getMessage());
            return 1;
        }
        sinks.start();
        List<Phase> played = new ArrayList<>();
        for (Phase phase : phases) {
            phase.play(stage);
            played.add(phase);
            if (!stage.service.isAlive()) {
                say("scenario: the service exited during phase " + phase.number + " (exit code "
                        + stage.service.exitValue() + ")");
                break;
            }
        }
        sinks.finish();
        summarize(stage, played);
        return stage.service.isAlive() ? 0 : 1;
    }

    private void summarize(Stage stage, List<Phase> played) {
        say("");
        say("summary");
        for (Phase phase : played) {
            phase.summarize(stage);
        }
        if (stage.hasView()) {
            summarizeAgent(stage, played);
        } else if (options.withAgent) {
            say("  agent: " + relative(options.agent) + (stage.service.agentSpoke() ? "; its [highwater] lines are"
                    + " above" : "; it printed no [highwater] console lines (console output not available in this"
                    + " build?)"));
        } else {
            say("  agent: not attached (--no-agent): nothing in the process said which code ignored backpressure");
        }
    }

    /** What the agent exported over OTLP, as the receiver decoded it. */
    private void summarizeAgent(Stage stage, List<Phase> played) {
        AgentTelemetry.Snapshot s = stage.telemetry();
        say("  agent, as it exported over OTLP: " + s.metricBatches + " metric batches, " + s.spans + " episode span"
                + (s.spans == 1 ? "" : "s"));
        for (Phase phase : played) {
            phase.summarizeAgent(stage, s);
        }
        if (s.ignoredWrites.isEmpty()) {
            say("    ignored writes: none exported");
        }
        for (Map.Entry<String, Long> e : s.ignoredWrites.entrySet()) {
            say("    ignored writes: " + e.getValue() + " at " + e.getKey());
        }
        for (Map.Entry<String, DrainWaitHistogram> e : s.drainWait.entrySet()) {
            say("    drain wait (" + e.getKey() + "): " + LiveView.quantiles(e.getValue()));
        }
    }

    private void say(String line) {
        narrator.say(line);
    }

    private static String relative(Path p) {
        Path cwd = Paths.get("").toAbsolutePath();
        return p.startsWith(cwd) ? cwd.relativize(p).toString() : p.toString();
    }
}

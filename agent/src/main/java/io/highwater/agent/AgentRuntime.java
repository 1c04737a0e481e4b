package io.highwater.agent;

import io.highwater.base.AgentTimer;
import io.highwater.base.Log;
import io.highwater.base.Version;
import io.highwater.bootstrap.Bridge;
import io.highwater.config.Settings;
import io.highwater.core.CallSites;
import io.highwater.core.Clock;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Frameworks;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.guard.Guard;
import io.highwater.guard.MemoryPools;
import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.telemetry.ConsoleSummary;
import io.highwater.telemetry.CurrentSpanProbe;
import io.highwater.telemetry.ExportStatus;
import io.highwater.telemetry.MemoryLimits;
import io.highwater.telemetry.MemoryReserve;
import io.highwater.telemetry.Telemetry;

import java.lang.instrument.Instrumentation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One running agent instance, wired: the model, the integrations and their instrumentation, the agent's timer, the
 * telemetry's life ({@link TelemetryLifecycle}) and what can be asked of it ({@link AgentControl}).
 *
 * <p>Start-up order keeps the host's start-up short: the model and the (lazy) transformer are in place before
 * {@code premain} returns; the OpenTelemetry SDK, a few hundred milliseconds of CPU, is built on the agent's own
 * thread later. Nothing is lost meanwhile: the model counts from the first write, and the instruments read
 * cumulative values from it once the SDK is up.
 */
final class AgentRuntime {

    final Settings settings;
    final Instrumentation instrumentation;
    final Monitor monitor;
    final InstrumentationReport report;
    final List<Integration> enabled;
    final List<Integration.Installed> installed;
    final AdviceTransformer transformer;
    final AgentTimer timer;
    final TelemetryLifecycle telemetry;
    final ExportStatus exportStatus;
    /** Null when {@code highwater.guard.mode=off}, and after a detach. */
    volatile Guard guard;

    private AgentRuntime(Settings settings, Instrumentation instrumentation, Monitor monitor,
                         InstrumentationReport report, List<Integration> enabled, List<Integration.Installed> installed,
                         AdviceTransformer transformer, AgentTimer timer, TelemetryLifecycle telemetry,
                         ExportStatus exportStatus) {
        this.settings = settings;
        this.instrumentation = instrumentation;
        this.monitor = monitor;
        this.report = report;
        this.enabled = enabled;
        this.installed = installed;
        this.transformer = transformer;
        this.timer = timer;
        this.telemetry = telemetry;
        this.exportStatus = exportStatus;
    }

    static synchronized String start(Settings settings, List<Integration> integrations, Instrumentation inst,
                                     boolean dynamic, long startNanos) {
        String active = Bridge.activeAgent;
        if (active != null) {
            String line = "already active in this JVM (highwater " + active + "); nothing changed";
            Log.info(line);
            return "error: " + line;
        }
        Bridge.activeAgent = Version.get();

        Dropped dropped = new Dropped();
        Duration stall = settings.duration("highwater.stall.threshold", Duration.ofMillis(100));
        Monitor monitor = monitor(settings, dropped, stall);
        // found at the first stop signal's write, on its thread: needs nothing of the SDK
        monitor.attachTraceProbe(new CurrentSpanProbe());

        MemoryReserve reserve = new MemoryReserve(Runtime.getRuntime().maxMemory());
        MemoryCrisis crisis = new MemoryCrisis(reserve);
        AgentTimer timer = new AgentTimer("highwater-timer", crisis);
        InstrumentationReport report = new InstrumentationReport();
        List<Integration> enabled = new ArrayList<>();
        List<Integration.Installed> installed = new ArrayList<>();
        List<AdviceTransformer.Target> targets = new ArrayList<>();
        Integration.Context context = new Context(settings, monitor, report, inst, timer);
        for (Integration i : integrations) {
            if (!settings.bool("highwater." + i.name() + ".enabled")) {
                continue;
            }
            try {
                Integration.Installed in = i.install(context);
                enabled.add(i);
                installed.add(in);
                targets.addAll(in.targets());
            } catch (Integration.Unavailable e) {
                report.skipped(i.name() + ": " + e.getMessage());
            }
        }
        AdviceTransformer transformer = new AdviceTransformer(AgentRuntime.class.getClassLoader(), targets);
        transformer.install(inst);

        Set<Layer> layers = new LinkedHashSet<>();
        for (Integration i : enabled) {
            layers.add(i.layer());
        }
        MemoryLimits limits = new MemoryLimits();
        // null, and nothing of it built, when off (the default)
        Guard guard = Guard.create(settings, monitor, MemoryPools.jvm(limits::maxDirect));
        ExportStatus status = new ExportStatus(dropped, reserve);
        // after an attach the host is long past its start-up: nothing to wait for
        Duration sdkDelay = dynamic ? Duration.ZERO : settings.duration("highwater.telemetry.delay", Duration.ZERO);
        TelemetryLifecycle telemetry = new TelemetryLifecycle(new TelemetryLifecycle.Build(settings.otelOverrides(),
                monitor, layers, settings.integer("highwater.connections.top", 0, 1000), limits, spanSettings(settings),
                settings.duration("highwater.shutdown.timeout", Duration.ZERO).toMillis(), reserve, status, timer),
                sdkDelay);
        crisis.telemetry(telemetry);
        AgentRuntime agent = new AgentRuntime(settings, inst, monitor, report, enabled, installed, transformer, timer,
                telemetry, status);
        agent.guard = guard;
        monitor.onFirstActivity(new Runnable() {
            @Override
            public void run() {
                telemetry.soon();
            }
        });
        new AgentControl(agent).open();

        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        String line = Version.get() + " started in " + ms + " ms" + (dynamic ? " (attached)" : "")
                + "; watching: " + agent.watching()
                + (report.instrumented().isEmpty() ? "" : "; instrumented: " + String.join(", ", report.instrumented()))
                + (report.skipped().isEmpty() ? "" : "; skipped: " + String.join(", ", report.skipped()))
                + (guard == null ? "" : "; " + guard.describe());
        Log.info(line);

        if (dynamic) {
            // what connections already hold when a user attaches to a bloating service is the first thing to see
            for (Integration.Installed i : installed) {
                i.discoverAtAttach();
            }
        }
        telemetry.schedule(timer);
        // stalls are found by this timer, not only when metrics are collected
        long tick = TimeUnit.MILLISECONDS.toNanos(Math.max(10, Math.min(1000, stall.toMillis() / 4)));
        timer.periodic("episode timer", new EpisodeTimer(agent, crisis), tick, tick, false);
        if (settings.bool("highwater.console")) {
            long every = settings.duration("highwater.console.interval", Duration.ofMillis(100)).toNanos();
            timer.periodic("console summary", new ConsoleSummary(monitor, layers, limits), every, every, true);
        }
        timer.start();
        return line;
    }

    private static Monitor monitor(Settings settings, Dropped dropped, Duration stall) {
        return new Monitor(
                new ConnectionRegistry(settings.integer("highwater.connections.max", 1, 10_000_000), dropped,
                        Clock.SYSTEM),
                new CallSites(settings.integer("highwater.callsite.max", 1, 100_000), dropped),
                dropped,
                new StackInspector(new Frameworks(frameworks(settings.string("highwater.callsite.frameworks")))),
                new RateLimiter(settings.integer("highwater.callsite.rate", 0, 1_000_000), Clock.SYSTEM),
                settings.decimal("highwater.netty.tolerance", 0.0, 1000.0),
                Clock.SYSTEM,
                stall.toNanos());
    }

    private static Telemetry.SpanSettings spanSettings(Settings settings) {
        return new Telemetry.SpanSettings(settings.integer("highwater.spans.rate", 0, 100_000),
                settings.duration("highwater.spans.threshold", Duration.ZERO).toNanos());
    }

    /** What the enabled integrations watch, as they claim it (tested versions only). */
    String watching() {
        if (enabled.isEmpty()) {
            return "nothing (every integration disabled or unavailable)";
        }
        List<String> parts = new ArrayList<>();
        for (Integration i : enabled) {
            parts.add(i.watching());
        }
        return String.join(", ", parts);
    }

    private static List<String> frameworks(String csv) {
        return csv.trim().isEmpty() ? Collections.<String>emptyList() : Arrays.asList(csv.split(","));
    }

    /** The episode timer: each integration's upkeep, the model's, and the memory crisis's. */
    private static final class EpisodeTimer implements Runnable {
        private final AgentRuntime agent;
        private final MemoryCrisis crisis;

        EpisodeTimer(AgentRuntime agent, MemoryCrisis crisis) {
            this.agent = agent;
            this.crisis = crisis;
        }

        @Override
        public void run() {
            try {
                for (Integration.Installed i : agent.installed) {
                    i.tick();
                }
                agent.monitor.tick();
                Guard guard = agent.guard;
                if (guard != null) {
                    guard.tick();
                }
            } finally {
                crisis.upkeep();
            }
        }
    }

    /** What the integrations get from the agent. */
    private static final class Context implements Integration.Context {
        private final Settings settings;
        private final Monitor monitor;
        private final InstrumentationReport report;
        private final Instrumentation instrumentation;
        private final AgentTimer timer;

        Context(Settings settings, Monitor monitor, InstrumentationReport report, Instrumentation instrumentation,
                AgentTimer timer) {
            this.settings = settings;
            this.monitor = monitor;
            this.report = report;
            this.instrumentation = instrumentation;
            this.timer = timer;
        }

        @Override
        public Settings settings() {
            return settings;
        }

        @Override
        public Monitor monitor() {
            return monitor;
        }

        @Override
        public InstrumentationReport report() {
            return report;
        }

        @Override
        public Instrumentation instrumentation() {
            return instrumentation;
        }

        @Override
        public AgentTimer timer() {
            return timer;
        }

        @Override
        public Frameworks frameworks() {
            return monitor.inspector().frameworks();
        }
    }
}

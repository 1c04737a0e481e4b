package io.highwater.agent;

import io.highwater.instrument.InstrumentationReport;
import io.highwater.instrument.AdviceTransformer;
import io.highwater.base.Version;
import io.highwater.base.Log;
import io.highwater.bootstrap.Bridge;
import io.highwater.bootstrap.NettyHooks;
import io.highwater.bootstrap.ServletHooks;
import io.highwater.bootstrap.SocketHooks;
import io.highwater.bootstrap.SocketWrites;
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
import io.highwater.netty.NettyAdapter;
import io.highwater.netty.NettyInstrumentation;
import io.highwater.servlet.ServletAdapter;
import io.highwater.servlet.ServletInstrumentation;
import io.highwater.socket.SocketAdapter;
import io.highwater.socket.SocketInstrumentation;
import io.highwater.telemetry.AgentTimer;
import io.highwater.telemetry.ConsoleSummary;
import io.highwater.telemetry.CurrentSpanProbe;
import io.highwater.telemetry.ExportStatus;
import io.highwater.telemetry.MemoryLimits;
import io.highwater.telemetry.MemoryReserve;
import io.highwater.telemetry.Retry;
import io.highwater.telemetry.Telemetry;

import java.lang.instrument.Instrumentation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.concurrent.TimeUnit;

/**
 * One running agent instance: the model, the instrumentation, telemetry and the console.
 *
 * <p>Start-up order keeps the host's start-up short: the model and the (lazy) transformer are in place before
 * {@code premain} returns; the OpenTelemetry SDK, which takes a few hundred milliseconds of CPU to build, is built
 * on the agent's own thread {@code highwater.telemetry.delay} after start-up, when the host's own start-up is
 * likely over, or at the first sign of backpressure if that comes sooner. Nothing is lost meanwhile: the model
 * counts from the first write, the instruments read cumulative values from it once the SDK is up, and waits and
 * episodes that ended before are handed to it then.
 */
final class AgentRuntime {

    /** A system property naming the active agent's version, so that {@code list} can tell without loading anything. */
    static final String MARKER = "highwater.agent.active";

    private final Monitor monitor;
    private final Set<Layer> layers;
    private final AdviceTransformer transformer;
    private final AgentTimer timer;
    private AgentTimer.Job buildJob;
    private AgentTimer.Job sampleJob;
    private final Instrumentation inst;
    private final Settings settings;
    private final InstrumentationReport report;
    /** Null when the servlet layer is off. */
    private final ServletAdapter servlet;
    /** Null when the socket layer is off. */
    private volatile SocketAdapter socket;
    private long samplePeriodMillis;
    private final Thread shutdownHook;
    private static final long CRISIS_LINE_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** How long a detach or JVM exit waits for a job of the timer under way (an export's collection) to end. */
    private static final long TIMER_STOP_WAIT_MILLIS = 1000;
    /** How much less often the socket sampler looks while no socket write is in progress. */
    private static final int IDLE_SAMPLE_FACTOR = 10;
    private final long startedAtMillis = System.currentTimeMillis();
    private volatile Telemetry telemetry;
    private volatile boolean stopped;

    /** The SDK's life: not built yet, being built, built (or failed), or never to be built (stopped first). */
    private static final int SDK_NONE = 0;
    private static final int SDK_BUILDING = 1;
    private static final int SDK_DONE = 2;
    private static final int SDK_CANCELLED = 3;
    private final Object sdkLock = new Object();
    private int sdkState = SDK_NONE;
    private boolean sdkClosed;
    private TelemetryBuild sdkBuild;
    private final Duration sdkDelay;
    private final long closeBudgetMillis;
    /** Builds that ran out of memory are tried again: after a doubling delay, or at once when memory frees. */
    private final Retry sdkRetry = new Retry(TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(30));
    /** In a memory crisis, how often the ticker tries to take the reserve back (only the ticker uses it). */
    private final Retry reserveRetry = new Retry(TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(30));
    /** When the timer's jobs last said that memory ran out: a heap hovering at its limit is said once a minute. */
    private long crisisSaidNanos;
    private boolean crisisEverSaid;

    /** Held back for the host's memory crisis; see {@link MemoryReserve}. */
    private final MemoryReserve reserve;
    private final ExportStatus exportStatus;
    private Runnable console;
    /** Whether this memory crisis was already reported by the timer's tasks (once per crisis). */
    private volatile boolean crisisSaid;

    private AgentRuntime(Monitor monitor, Set<Layer> layers, AdviceTransformer transformer,
                         AgentTimer timer, Instrumentation inst, Settings settings,
                         InstrumentationReport report, ServletAdapter servlet, TelemetryBuild sdkBuild,
                         Duration sdkDelay) {
        this.sdkBuild = sdkBuild;
        this.sdkDelay = sdkDelay;
        this.closeBudgetMillis = sdkBuild.closeBudgetMillis;
        this.reserve = sdkBuild.reserve;
        this.exportStatus = sdkBuild.status;
        this.servlet = servlet;
        this.monitor = monitor;
        this.layers = layers;
        this.transformer = transformer;
        this.timer = timer;
        this.inst = inst;
        this.settings = settings;
        this.report = report;
        this.shutdownHook = new Thread(new Task(this, Task.SHUTDOWN), "highwater-shutdown");
    }

    static synchronized String start(Settings settings, Instrumentation inst, boolean dynamic, long startNanos) {
        String active = Bridge.activeAgent;
        if (active != null) {
            String line = "already active in this JVM (highwater " + active + "); nothing changed";
            Log.info(line);
            return "error: " + line;
        }
        Bridge.activeAgent = Version.get();

        Set<Layer> layers = EnumSet.noneOf(Layer.class);
        if (settings.bool("highwater.netty.enabled")) {
            layers.add(Layer.NETTY);
        }
        if (settings.bool("highwater.servlet.enabled")) {
            layers.add(Layer.SERVLET);
        }
        if (settings.bool("highwater.socket.enabled")) {
            layers.add(Layer.SOCKET);
        }
        Dropped dropped = new Dropped();
        Duration stall = settings.duration("highwater.stall.threshold", Duration.ofMillis(100));
        Monitor monitor = new Monitor(
                new ConnectionRegistry(settings.integer("highwater.connections.max", 1, 10_000_000), dropped,
                        Clock.SYSTEM),
                new CallSites(settings.integer("highwater.callsite.max", 1, 100_000), dropped),
                dropped,
                new StackInspector(new Frameworks(frameworks(settings.string("highwater.callsite.frameworks")))),
                new RateLimiter(settings.integer("highwater.callsite.rate", 0, 1_000_000), Clock.SYSTEM),
                settings.decimal("highwater.netty.tolerance", 0.0, 1000.0),
                Clock.SYSTEM,
                stall.toNanos());
        int topN = settings.integer("highwater.connections.top", 0, 1000);
        boolean console = settings.bool("highwater.console");
        Duration closeBudget = settings.duration("highwater.shutdown.timeout", Duration.ZERO);
        Telemetry.SpanSettings spans = new Telemetry.SpanSettings(
                settings.integer("highwater.spans.rate", 0, 100_000),
                settings.duration("highwater.spans.threshold", Duration.ZERO).toNanos());
        Duration consoleEvery = settings.duration("highwater.console.interval", Duration.ofMillis(100));
        // after an attach the host is long past its start-up: nothing to wait for
        Duration sdkDelay = dynamic ? Duration.ZERO : settings.duration("highwater.telemetry.delay", Duration.ZERO);
        // found at the first stop signal's write, on its thread: needs nothing of the SDK
        monitor.attachTraceProbe(new CurrentSpanProbe());

        InstrumentationReport report = new InstrumentationReport();
        List<AdviceTransformer.Target> targets = new ArrayList<>();
        NettyAdapter netty = null;
        if (layers.contains(Layer.NETTY)) {
            netty = new NettyAdapter(monitor);
            Bridge.netty = netty;
            targets.add(NettyInstrumentation.target(report));
            targets.add(NettyInstrumentation.pipelineTarget(report));
        }
        ServletAdapter servlet = null;
        if (layers.contains(Layer.SERVLET)) {
            servlet = new ServletAdapter(monitor);
            Bridge.servletNotReady.set(0);
            Bridge.servletBlocked.set(0);
            Bridge.servlet = servlet;
            targets.addAll(ServletInstrumentation.targets(report));
        }
        SocketAdapter socket = null;
        if (layers.contains(Layer.SOCKET)) {
            String refused = SocketInstrumentation.prepareModules(inst);
            if (refused == null) {
                socket = new SocketAdapter(monitor, settings.integer("highwater.connections.max", 1, 10_000_000));
                SocketWrites.nioWaiting.set(0);
                Bridge.socket = socket;
                SocketWrites.active = true;
                targets.addAll(SocketInstrumentation.targets(report));
            } else {
                report.skipped("jdk sockets: " + refused);
                layers.remove(Layer.SOCKET);
            }
        }
        AdviceTransformer transformer = new AdviceTransformer(AgentRuntime.class.getClassLoader(), targets);
        transformer.install(inst);

        // every job catches what it throws itself (Task): the timer has nothing left to report
        AgentTimer timer = new AgentTimer("highwater-timer", new Unreported());
        MemoryLimits limits = new MemoryLimits();
        // no memory is held back yet: the reserve is taken when the SDK is built
        MemoryReserve reserve = new MemoryReserve(Runtime.getRuntime().maxMemory());
        AgentRuntime runtime = new AgentRuntime(monitor, layers, transformer, timer, inst, settings, report, servlet,
                new TelemetryBuild(settings.otelOverrides(), monitor, layers, topN, limits, spans,
                        closeBudget.toMillis(), reserve, new ExportStatus(dropped, reserve), timer), sdkDelay);
        runtime.socket = socket;
        monitor.onFirstActivity(new Task(runtime, Task.FIRST_ACTIVITY));
        Runtime.getRuntime().addShutdownHook(runtime.shutdownHook);
        Bridge.control = new Function<String, String>() {
            @Override
            public String apply(String command) {
                return runtime.control(command);
            }
        };
        System.setProperty(MARKER, Version.get());

        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        String line = Version.get() + " started in " + ms + " ms" + (dynamic ? " (attached)" : "")
                + "; watching: " + watching(layers)
                + (report.instrumented().isEmpty() ? "" : "; instrumented: " + String.join(", ", report.instrumented()))
                + (report.skipped().isEmpty() ? "" : "; skipped: " + String.join(", ", report.skipped()));
        Log.info(line);

        if (dynamic && netty != null) {
            // what connections already hold when a user attaches to a bloating service is the first thing to see
            int loops = netty.discoverAtAttach();
            Log.debug("asked " + loops + " netty event loops for channels already under pressure");
        }
        runtime.buildJob = timer.onDemand("telemetry start", new Task(runtime, Task.TELEMETRY));
        runtime.buildJob.runIn(sdkDelay.toNanos());
        // stalls are found by this timer, not only when metrics are collected
        long tick = TimeUnit.MILLISECONDS.toNanos(Math.max(10, Math.min(1000, stall.toMillis() / 4)));
        timer.periodic("episode timer", new Task(runtime, Task.TICK), tick, tick, false);
        if (socket != null) {
            runtime.samplePeriodMillis = settings.duration("highwater.socket.sample", Duration.ofMillis(1)).toMillis();
            runtime.sampleJob = timer.onDemand("socket sampler", new Task(runtime, Task.SAMPLE));
            runtime.sampleJob.runIn(TimeUnit.MILLISECONDS.toNanos(runtime.samplePeriodMillis));
        }
        if (console) {
            long every = consoleEvery.toNanos();
            runtime.console = new ConsoleSummary(monitor, layers, limits);
            timer.periodic("console summary", new Task(runtime, Task.CONSOLE), every, every, true);
        }
        timer.start();
        return line;
    }

    private String control(String command) {
        switch (command) {
            case "status":
                return status();
            case "detach":
                return detach();
            default:
                return "error: unknown command '" + command + "' (status, detach)";
        }
    }

    private String status() {
        Telemetry t = telemetry;
        StringBuilder b = new StringBuilder();
        b.append("highwater ").append(Version.get()).append(" active since ")
                .append(java.time.Instant.ofEpochMilli(startedAtMillis)).append('\n');
        b.append("layers: ").append(layers.isEmpty() ? "none" : layers.toString().toLowerCase(java.util.Locale.ROOT))
                .append('\n');
        b.append("instrumented: ").append(report.instrumented().isEmpty() ? "nothing yet (no target class loaded)"
                : String.join(", ", report.instrumented())).append('\n');
        if (!report.skipped().isEmpty()) {
            b.append("skipped: ").append(String.join(", ", report.skipped())).append('\n');
        }
        b.append("exporting: ").append(t != null ? t.endpoint() + " every " + t.interval() : notExporting())
                .append('\n');
        b.append(exportStatus.describe()).append('\n');
        b.append("tracked connections: ").append(monitor.registry().size()).append('\n');
        b.append("settings:");
        java.util.Map<String, String> given = settings.describe();
        if (given.isEmpty()) {
            b.append(" defaults");
        }
        for (java.util.Map.Entry<String, String> e : given.entrySet()) {
            b.append("\n  ").append(e.getKey()).append('=').append(e.getValue());
        }
        return b.toString();
    }

    private String notExporting() {
        synchronized (sdkLock) {
            if (sdkRetry.failures() > 0 && sdkState == SDK_NONE) {
                return "not started yet: out of memory while building the SDK (" + sdkRetry.failures()
                        + " tries); tries again when memory frees, or in "
                        + Settings.format(Duration.ofNanos(sdkRetry.delayNanos())) + " at the latest";
            }
            if (sdkState == SDK_DONE) {
                return "not started: the SDK could not be built (see the agent's log)";
            }
        }
        return "not started yet (starts at the first stop signal, or " + Settings.format(sdkDelay)
                + " after start-up)";
    }

    /**
     * Undoes everything: the original bytecode goes back into every instrumented class, the hooks point at no-ops,
     * a final export flushes what was counted, and the agent's threads stop, so nothing refers to its class loader.
     */
    private synchronized String detach() {
        if (stopped) {
            return "error: already detached";
        }
        stopped = true;
        Bridge.netty = NettyHooks.NOOP;
        Bridge.servlet = ServletHooks.NOOP;
        Bridge.socket = SocketHooks.NOOP;
        if (servlet != null) {
            servlet.reset();
        }
        if (socket != null) {
            socket.reset();
        }
        transformer.uninstall(inst);
        // a detach leaves no thread of the agent's behind: a build under way is waited for and closed
        Telemetry t = finalTelemetry(monitor.registry().everUsed(), true);
        timer.stop(TIMER_STOP_WAIT_MILLIS);
        monitor.endAll("agent detached");
        if (t != null) {
            t.close();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting anyway
        }
        Bridge.control = null;
        System.clearProperty(MARKER);
        Bridge.activeAgent = null;
        String line = "detached: " + String.join(", ", transformer.targetNames()) + " restored, export stopped";
        Log.info(line);
        return line;
    }

    /** The timer's report of a job's failure; unused, for every job catches what it throws (see {@link Task}). */
    private static final class Unreported implements AgentTimer.Failures {
        @Override
        public void failed(AgentTimer.Job job, Throwable t) {
        }
    }

    /**
     * The runtime's jobs as one small class: no lambdas on the start-up path (see Clock.SYSTEM), and none that
     * could first be linked in a memory crisis. A job never throws: the host's {@link OutOfMemoryError} may reach
     * any of the agent's threads, and what it could not do now it does at its next run.
     */
    private static final class Task implements Runnable {
        static final int TICK = 0;
        static final int SHUTDOWN = 1;
        static final int TELEMETRY = 2;
        static final int FIRST_ACTIVITY = 3;
        static final int SAMPLE = 4;
        static final int CONSOLE = 5;
        private final AgentRuntime runtime;
        private final int what;

        Task(AgentRuntime runtime, int what) {
            this.runtime = runtime;
            this.what = what;
        }

        @Override
        public void run() {
            try {
                switch (what) {
                    case TICK:
                        runtime.tick();
                        break;
                    case SHUTDOWN:
                        runtime.shutdown();
                        break;
                    case TELEMETRY:
                        runtime.buildTelemetry();
                        break;
                    case SAMPLE:
                        runtime.sample();
                        break;
                    case CONSOLE:
                        runtime.console.run();
                        break;
                    default:
                        runtime.firstActivity();
                        break;
                }
            } catch (Throwable t) {
                runtime.failed(what, t);
            }
        }
    }

    /**
     * Said once per memory crisis by the timer's jobs, and not again within a minute (a heap hovering at its limit
     * starts and ends crises); built beforehand, for there is no memory to build them.
     */
    private static final String[] OUT_OF_MEMORY = {
        Log.PREFIX + "out of memory on the agent's timer (episode ticker): the heap is full. The agent let go of its"
                + " memory reserve and keeps every schedule; what it could not do now it does when memory frees"
                + " (said once per memory crisis)",
        null,
        null,
        null,
        Log.PREFIX + "out of memory on the agent's timer (socket sampler): the heap is full. The agent let go of its"
                + " memory reserve and keeps every schedule; what it could not do now it does when memory frees"
                + " (said once per memory crisis)",
        Log.PREFIX + "out of memory on the agent's timer (console summary): the heap is full. The agent let go of"
                + " its memory reserve and keeps every schedule; what it could not do now it does when memory frees"
                + " (said once per memory crisis)",
    };
    private static final String[] JOB_NAMES = {"episode timer", "shutdown", "telemetry start", "first activity",
        "socket sampler", "console summary"};

    /** What a job threw. Never throws, and allocates nothing when memory ran out. */
    private void failed(int what, Throwable t) {
        try {
            if (MemoryReserve.isOutOfMemory(t)) {
                reserve.release();
                String line = OUT_OF_MEMORY[what];
                long now = System.nanoTime();
                boolean quiet = crisisEverSaid && now - crisisSaidNanos < CRISIS_LINE_EVERY_NANOS;
                if (line != null && !crisisSaid && !quiet) {
                    Log.line(line);
                    crisisSaid = true;
                    crisisEverSaid = true;
                    crisisSaidNanos = now;
                }
                return;
            }
            Log.once("job" + what, JOB_NAMES[what] + " failed: " + t);
        } catch (Throwable stillFailing) {
            // nothing more can be said; the job's schedule goes on
        }
    }

    /**
     * The socket sampler, every period while some socket write is in progress and ten times less often while none
     * is, so an idle JVM is not woken a hundred times a second. Each run arms the next, which allocates nothing.
     */
    private void sample() {
        SocketAdapter s = socket;
        if (s == null) {
            return;
        }
        boolean busy = true;
        try {
            busy = s.sample();
        } catch (Throwable e) {
            failed(Task.SAMPLE, e);
        }
        if (!stopped) {
            sampleJob.runIn(TimeUnit.MILLISECONDS.toNanos(busy ? samplePeriodMillis
                    : IDLE_SAMPLE_FACTOR * samplePeriodMillis));
        }
    }

    /** What building the SDK needs, kept from start-up until it is built. */
    private static final class TelemetryBuild {
        final java.util.Map<String, String> otel;
        final Monitor monitor;
        final Set<Layer> layers;
        final int topN;
        final MemoryLimits limits;
        final Telemetry.SpanSettings spans;
        final long closeBudgetMillis;
        final MemoryReserve reserve;
        final ExportStatus status;
        final AgentTimer timer;

        TelemetryBuild(java.util.Map<String, String> otel, Monitor monitor, Set<Layer> layers, int topN,
                       MemoryLimits limits, Telemetry.SpanSettings spans, long closeBudgetMillis,
                       MemoryReserve reserve, ExportStatus status, AgentTimer timer) {
            this.otel = otel;
            this.monitor = monitor;
            this.layers = layers;
            this.topN = topN;
            this.limits = limits;
            this.spans = spans;
            this.closeBudgetMillis = closeBudgetMillis;
            this.reserve = reserve;
            this.status = status;
            this.timer = timer;
        }

        Telemetry build() {
            return Telemetry.start(otel, Version.get(), monitor, layers, topN, limits, spans, closeBudgetMillis,
                    status, timer);
        }
    }

    /**
     * On the thread of the first stop signal (a transport's): only hands the SDK's build to the agent's timer, which
     * allocates nothing. Detached or shutting down, the timer runs no more: the final export builds the SDK if it is
     * needed.
     */
    private void firstActivity() {
        buildJob.runIn(0);
    }

    private static final String BUILD_OUT_OF_MEMORY = Log.PREFIX + "telemetry not started yet: out of memory while"
            + " building the agent's OpenTelemetry SDK (the heap is full). It tries again when memory frees; counting"
            + " goes on meanwhile, so nothing is lost (said once)";
    private boolean buildOutOfMemorySaid;

    /**
     * Builds the SDK unless it is built, being built, or no longer wanted; on the agent's timer thread. A build
     * that runs out of memory is tried again ({@link #sdkRetry}); any other failure is final and said once.
     */
    private void buildTelemetry() {
        long wait = 0;
        synchronized (sdkLock) {
            if (sdkState != SDK_NONE) {
                return;
            }
            if (sdkRetry.failures() > 0 && reserve.crisis()) {
                // trying a build while the heap is still full would only take the host's last bytes; the ticker
                // tries it at once when it could take the reserve back
                sdkRetry.postponed(System.nanoTime());
                wait = sdkRetry.delayNanos();
            } else {
                sdkState = SDK_BUILDING;
            }
        }
        if (wait > 0) {
            buildJob.runIn(wait);
            return;
        }
        Telemetry t = null;
        Throwable failure = null;
        try {
            t = sdkBuild.build();
        } catch (Throwable e) {
            failure = e;
        }
        if (failure != null && MemoryReserve.isOutOfMemory(failure)) {
            reserve.release();
            long retryIn;
            synchronized (sdkLock) {
                sdkRetry.failed(System.nanoTime());
                retryIn = sdkRetry.delayNanos();
                sdkState = SDK_NONE;
                sdkLock.notifyAll();
            }
            if (!stopped) {
                buildJob.runIn(retryIn);
            }
            if (!buildOutOfMemorySaid) {
                Log.line(BUILD_OUT_OF_MEMORY);
                buildOutOfMemorySaid = true;
            }
            return;
        }
        synchronized (sdkLock) {
            sdkRetry.succeeded();
        }
        // published before anything is said: saying it may fail, and the state must not stay "being built"
        publish(t);
        if (failure != null) {
            Log.warn("telemetry not started, nothing will be exported: " + failure);
        } else {
            Log.info("exporting metrics to " + t.endpoint() + " every " + t.interval());
        }
    }

    /** Builds the SDK on the calling thread, for the final export; null when that fails. */
    private Telemetry buildNow() {
        try {
            Telemetry t = sdkBuild.build();
            Log.info("exporting metrics to " + t.endpoint() + " every " + t.interval());
            return t;
        } catch (Throwable e) {
            Log.warn("telemetry not started, nothing will be exported: " + e);
            return null;
        }
    }

    private void publish(Telemetry t) {
        boolean late;
        synchronized (sdkLock) {
            late = sdkClosed;
            if (!late) {
                telemetry = t;
            }
            sdkState = SDK_DONE;
            sdkBuild = null;
            sdkLock.notifyAll();
        }
        if (late && t != null) {
            // the agent stopped while this was being built: nobody else will close it
            t.close(false);
        }
    }

    /**
     * The SDK for the final export (JVM exit or detach), or null. A build under way is waited for, up to the close
     * budget, when {@code waitForBuild}; one that never started is built here when {@code needed} (a connection
     * was tracked), and otherwise never will be. After this, a build that finishes late closes its own SDK.
     */
    private Telemetry finalTelemetry(boolean needed, boolean waitForBuild) {
        long waitUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, closeBudgetMillis));
        boolean buildHere = false;
        synchronized (sdkLock) {
            if (sdkState == SDK_NONE) {
                if (needed) {
                    sdkState = SDK_BUILDING;
                    buildHere = true;
                } else {
                    sdkState = SDK_CANCELLED;
                }
            }
            while (waitForBuild && !buildHere && sdkState == SDK_BUILDING) {
                long left = waitUntil - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(sdkLock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!buildHere) {
                sdkClosed = true;
                return telemetry;
            }
        }
        Telemetry t = buildNow();
        synchronized (sdkLock) {
            telemetry = t;
            sdkState = SDK_DONE;
            sdkClosed = true;
            sdkLock.notifyAll();
        }
        return t;
    }

    /**
     * The episode timer, and the runtime's own upkeep: in a memory crisis it tries to take the reserve back (at
     * the next run, then after doubling delays up to 30 s), and once it could, tries at once a build of the SDK
     * that ran out of memory.
     */
    private void tick() {
        try {
            if (servlet != null) {
                servlet.tick();
            }
            SocketAdapter s = socket;
            if (s != null) {
                s.tick();
            }
            monitor.tick();
        } catch (Throwable e) {
            failed(Task.TICK, e);
        }
        long now = System.nanoTime();
        if (reserve.crisis() && (reserveRetry.failures() == 0 || reserveRetry.due(now))) {
            // trying is the test: the JVM's free memory does not count garbage a collection would free
            if (reserve.retake()) {
                reserveRetry.succeeded();
                crisisSaid = false;
                boolean retry;
                synchronized (sdkLock) {
                    sdkRetry.memoryFreed(now);
                    retry = sdkState == SDK_NONE && sdkRetry.failures() > 0;
                }
                if (retry) {
                    buildJob.runIn(0);
                }
            } else {
                reserveRetry.failed(now);
            }
        }
    }

    /** JVM shutdown: a last export of what was counted, bounded in time. */
    private synchronized void shutdown() {
        if (stopped) {
            return;
        }
        stopped = true;
        boolean used = monitor.registry().everUsed();
        // a JVM that never saw backpressure exits without building the SDK, waiting for it or for a last export
        Telemetry t = finalTelemetry(used, used);
        timer.stop(TIMER_STOP_WAIT_MILLIS);
        // episodes still open become spans of the final export, before the SDK closes
        monitor.endAll("process shutting down");
        if (t != null) {
            t.close(used);
        }
        Bridge.netty = NettyHooks.NOOP;
        Bridge.servlet = ServletHooks.NOOP;
        Bridge.socket = SocketHooks.NOOP;
        SocketWrites.active = false;
    }

    private static String watching(Set<Layer> layers) {
        if (layers.isEmpty()) {
            return "nothing (every layer disabled)";
        }
        List<String> parts = new ArrayList<>();
        if (layers.contains(Layer.NETTY)) {
            parts.add("netty 4.1/4.2");
        }
        if (layers.contains(Layer.SERVLET)) {
            parts.add("servlet (tomcat 9-11, jetty 9.4-12 ee10, undertow; javax and jakarta)");
        }
        if (layers.contains(Layer.SOCKET)) {
            parts.add("jdk sockets (Socket streams, SocketChannel; jdk 13+)");
        }
        return String.join(", ", parts);
    }

    private static List<String> frameworks(String csv) {
        return csv.trim().isEmpty() ? Collections.emptyList() : Arrays.asList(csv.split(","));
    }
}

package io.highwater.agent;

import io.highwater.bootstrap.Bridge;
import io.highwater.bootstrap.NettyHooks;
import io.highwater.config.Settings;
import io.highwater.core.CallSites;
import io.highwater.core.Clock;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.netty.NettyAdapter;
import io.highwater.netty.NettyInstrumentation;
import io.highwater.telemetry.ConsoleSummary;
import io.highwater.telemetry.MemoryLimits;
import io.highwater.telemetry.Telemetry;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.agent.builder.ResettableClassFileTransformer;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.utility.JavaModule;
import java.lang.instrument.Instrumentation;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;

/** One running agent instance: the model, telemetry, the console and the instrumentation. */
final class AgentRuntime {

    private AgentRuntime() {
    }

    static void start(Settings settings, Instrumentation inst, boolean dynamic, long startNanos) {
        String active = Bridge.activeAgent;
        if (active != null) {
            Log.info("already active in this JVM (" + active + "); this attach changes nothing");
            return;
        }
        Bridge.activeAgent = Version.get();

        Set<Layer> layers = settings.bool("highwater.netty.enabled") ? EnumSet.of(Layer.NETTY) : EnumSet.noneOf(Layer.class);
        Dropped dropped = new Dropped();
        Monitor monitor = new Monitor(
                new ConnectionRegistry(settings.integer("highwater.connections.max", 1, 10_000_000), dropped),
                new CallSites(settings.integer("highwater.callsite.max", 1, 100_000), dropped),
                dropped,
                new StackInspector(frameworks(settings.string("highwater.callsite.frameworks"))),
                new RateLimiter(settings.integer("highwater.callsite.rate", 0, 1_000_000), Clock.SYSTEM),
                settings.decimal("highwater.netty.tolerance", 0.0, 1000.0));
        int topN = settings.integer("highwater.connections.top", 0, 1000);
        MemoryLimits limits = new MemoryLimits();
        Telemetry telemetry = Telemetry.start(settings.otelOverrides(), Version.get(), monitor, layers, topN, limits);

        InstrumentationReport report = new InstrumentationReport();
        ResettableClassFileTransformer transformer = null;
        if (layers.contains(Layer.NETTY)) {
            Bridge.netty = new NettyAdapter(monitor);
            transformer = instrument(inst, report);
        }

        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "highwater-timer");
            t.setDaemon(true);
            return t;
        });
        if (settings.bool("highwater.console")) {
            long every = settings.duration("highwater.console.interval", java.time.Duration.ofMillis(100)).toMillis();
            timer.scheduleAtFixedRate(new ConsoleSummary(monitor, layers, limits), every, every, TimeUnit.MILLISECONDS);
        }
        ResettableClassFileTransformer installed = transformer;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            timer.shutdownNow();
            telemetry.close();
            if (installed != null) {
                Bridge.netty = NettyHooks.NOOP;
            }
        }, "highwater-shutdown"));

        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        Log.info(Version.get() + " started in " + ms + " ms" + (dynamic ? " (attached)" : "")
                + "; watching: " + (layers.isEmpty() ? "nothing (every layer disabled)" : "netty 4.1/4.2 ChannelOutboundBuffer")
                + (report.instrumented().isEmpty() ? "" : "; instrumented: " + String.join(", ", report.instrumented()))
                + (report.skipped().isEmpty() ? "" : "; skipped: " + String.join(", ", report.skipped()))
                + "; exporting metrics to " + telemetry.endpoint() + " every " + telemetry.interval());
    }

    private static ResettableClassFileTransformer instrument(Instrumentation inst, InstrumentationReport report) {
        AgentBuilder builder = new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(AgentBuilder.DescriptionStrategy.Default.POOL_FIRST)
                .with(new Failures())
                .ignore(nameStartsWith("net.bytebuddy.").or(nameStartsWith("io.highwater.")));
        builder = NettyInstrumentation.apply(builder, Installer.class.getClassLoader(), report);
        return builder.installOn(inst);
    }

    private static java.util.List<String> frameworks(String csv) {
        return csv.trim().isEmpty() ? Collections.emptyList() : Arrays.asList(csv.split(","));
    }

    /** One log line per class that could not be instrumented; the class stays as it was. */
    private static final class Failures extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded,
                            Throwable throwable) {
            Log.once("transform:" + typeName, "could not instrument " + typeName + " (" + throwable
                    + "); it stays uninstrumented");
        }

        @Override
        public void onTransformation(TypeDescription typeDescription, ClassLoader classLoader, JavaModule module,
                                     boolean loaded, DynamicType dynamicType) {
            Log.debug("transformed " + typeDescription.getName() + " in " + classLoader);
        }
    }
}

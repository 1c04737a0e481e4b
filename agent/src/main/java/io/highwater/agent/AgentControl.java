package io.highwater.agent;

import io.highwater.base.Log;
import io.highwater.base.Version;
import io.highwater.bootstrap.Bridge;
import io.highwater.core.Monitor;
import io.highwater.instrument.Integration;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.telemetry.Telemetry;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What can be asked of a running agent, and how it ends: {@code status}, {@code detach} (through the command line,
 * {@link Bridge#control}) and the JVM's exit (a shutdown hook). Both ends leave a last export of what was counted and
 * no thread of the agent's behind.
 */
final class AgentControl {

    /** A system property naming the active agent's version, so that {@code list} can tell without loading anything. */
    static final String MARKER = "highwater.agent.active";
    /** How long a detach or JVM exit waits for a job of the timer under way (an export's collection) to end. */
    private static final long TIMER_STOP_WAIT_MILLIS = 1000;

    private final AgentRuntime agent;
    private final long startedAtMillis = System.currentTimeMillis();
    private final Thread shutdownHook;
    private volatile boolean stopped;

    AgentControl(AgentRuntime agent) {
        this.agent = agent;
        this.shutdownHook = new Thread(new Runnable() {
            @Override
            public void run() {
                shutdown();
            }
        }, "highwater-shutdown");
    }

    /** Makes the agent reachable (command line, {@code list}) and its end at JVM exit certain. */
    void open() {
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        Bridge.control = new java.util.function.Function<String, String>() {
            @Override
            public String apply(String command) {
                return control(command);
            }
        };
        System.setProperty(MARKER, Version.get());
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
        InstrumentationReport report = agent.report;
        StringBuilder b = new StringBuilder();
        b.append("highwater ").append(Version.get()).append(" active since ")
                .append(Instant.ofEpochMilli(startedAtMillis)).append('\n');
        b.append("watching: ").append(agent.watching()).append('\n');
        b.append("instrumented: ").append(report.instrumented().isEmpty() ? "nothing yet (no target class loaded)"
                : String.join(", ", report.instrumented())).append('\n');
        if (!report.skipped().isEmpty()) {
            b.append("skipped: ").append(String.join(", ", report.skipped())).append('\n');
        }
        b.append("exporting: ").append(agent.telemetry.describe()).append('\n');
        b.append(agent.exportStatus.describe()).append('\n');
        b.append("tracked connections: ").append(agent.monitor.registry().size()).append('\n');
        if (agent.guard != null) {
            b.append(agent.guard.describe()).append('\n');
        }
        b.append("settings:");
        Map<String, String> given = agent.settings.describe();
        if (given.isEmpty()) {
            b.append(" defaults");
        }
        for (Map.Entry<String, String> e : given.entrySet()) {
            b.append("\n  ").append(e.getKey()).append('=').append(e.getValue());
        }
        return b.toString();
    }

    /**
     * Undoes everything: the original bytecode goes back into every instrumented class, the hooks point at no-ops, a
     * last export flushes what was counted, and the agent's threads stop, so nothing refers to its class loader.
     */
    private synchronized String detach() {
        if (stopped) {
            return "error: already detached";
        }
        stopped = true;
        // the guard acts no more, on the write paths or on the timer's last ticks; what it did is still exported
        if (agent.guard != null) {
            agent.monitor.attachGuard(null, agent.monitor.guardCounts());
            agent.guard = null;
        }
        stopIntegrations();
        List<String> restored = agent.transformer.uninstall(agent.instrumentation);
        // a detach leaves no thread of the agent's behind: a build under way is waited for and closed
        Telemetry t = agent.telemetry.last(agent.monitor.registry().everUsed(), true);
        agent.timer.stop(TIMER_STOP_WAIT_MILLIS);
        agent.monitor.endAll("agent detached");
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
        String line = "detached: " + (restored.isEmpty() ? "nothing was instrumented"
                : String.join(", ", restored) + " restored") + ", export stopped";
        Log.info(line);
        return line;
    }

    /** JVM shutdown: a last export of what was counted, bounded in time. */
    private synchronized void shutdown() {
        if (stopped) {
            return;
        }
        stopped = true;
        Monitor monitor = agent.monitor;
        boolean used = monitor.registry().everUsed();
        // a JVM that never saw backpressure exits without building the SDK, waiting for it or for a last export
        Telemetry t = agent.telemetry.last(used, used);
        agent.timer.stop(TIMER_STOP_WAIT_MILLIS);
        // episodes still open become spans of the last export, before the SDK closes
        monitor.endAll("process shutting down");
        if (t != null) {
            t.close(used);
        }
        stopIntegrations();
    }

    private void stopIntegrations() {
        for (Integration.Installed i : agent.installed) {
            try {
                i.stop();
            } catch (RuntimeException e) {
                Log.once("stop:" + i, "stopping an integration failed: " + e);
            }
        }
    }
}

package io.highwater.agent.internal;

import io.highwater.base.Log;

import java.util.function.Supplier;
import java.util.logging.Level;

/**
 * Stands in for {@code java.util.logging.Logger} inside the relocated OpenTelemetry SDK (the shade plugin
 * rewrites every reference), so that the SDK's logging lands in the agent's log and the application's
 * {@code LogManager} is never initialised by the agent. Export failures are reported by the agent's own
 * exporter wrapper (once, and once more on recovery), so the SDK's per-attempt exporter messages stay quiet.
 *
 * <p>Only the methods the SDK calls are needed; {@code AgentJarTest} checks that every one it references exists.
 */
public final class SdkLogger {

    private final String name;
    private final boolean exporter;

    private SdkLogger(String name) {
        this.name = name;
        // export outcomes are reported by the agent itself (ExportStatus), once per kind of failure, not per attempt
        this.exporter = name.contains(".exporter.") || name.endsWith(".PeriodicMetricReader");
    }

    public static SdkLogger getLogger(String name) {
        return new SdkLogger(name);
    }

    public static SdkLogger getLogger(String name, String resourceBundle) {
        return new SdkLogger(name);
    }

    public String getName() {
        return name;
    }

    public boolean isLoggable(Level level) {
        return level.intValue() >= Level.WARNING.intValue() ? !exporter || Log.debugEnabled() : Log.debugEnabled();
    }

    public void log(Level level, String msg) {
        log(level, msg, (Throwable) null);
    }

    public void log(Level level, String msg, Throwable thrown) {
        if (!isLoggable(level)) {
            return;
        }
        String text = shortName() + ": " + msg + (thrown == null ? "" : " (" + thrown + ")");
        if (level.intValue() >= Level.WARNING.intValue()) {
            Log.once(name + '|' + msg, text);
        } else {
            Log.debug(text);
        }
    }

    public void log(Level level, String msg, Object param) {
        log(level, msg, (Throwable) null);
    }

    public void log(Level level, String msg, Object[] params) {
        log(level, msg, (Throwable) null);
    }

    public void log(Level level, Supplier<String> msg) {
        if (isLoggable(level)) {
            log(level, msg.get(), (Throwable) null);
        }
    }

    public void log(Level level, Throwable thrown, Supplier<String> msg) {
        if (isLoggable(level)) {
            log(level, msg.get(), thrown);
        }
    }

    public void logp(Level level, String sourceClass, String sourceMethod, String msg) {
        log(level, msg, (Throwable) null);
    }

    public void logp(Level level, String sourceClass, String sourceMethod, String msg, Throwable thrown) {
        log(level, msg, thrown);
    }

    public void severe(String msg) {
        log(Level.SEVERE, msg);
    }

    public void warning(String msg) {
        log(Level.WARNING, msg);
    }

    public void info(String msg) {
        log(Level.INFO, msg);
    }

    public void config(String msg) {
        log(Level.CONFIG, msg);
    }

    public void fine(String msg) {
        log(Level.FINE, msg);
    }

    public void finer(String msg) {
        log(Level.FINER, msg);
    }

    public void finest(String msg) {
        log(Level.FINEST, msg);
    }

    public void severe(Supplier<String> msg) {
        log(Level.SEVERE, msg);
    }

    public void warning(Supplier<String> msg) {
        log(Level.WARNING, msg);
    }

    public void info(Supplier<String> msg) {
        log(Level.INFO, msg);
    }

    public void fine(Supplier<String> msg) {
        log(Level.FINE, msg);
    }

    public void finest(Supplier<String> msg) {
        log(Level.FINEST, msg);
    }

    private String shortName() {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? name : name.substring(dot + 1);
    }
}

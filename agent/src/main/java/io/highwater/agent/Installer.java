package io.highwater.agent;

import io.highwater.base.Version;
import io.highwater.base.Log;
import io.highwater.config.Settings;
import io.highwater.instrument.Integration;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.util.List;

/**
 * Reads the settings, puts the bootstrap helpers in place, then starts an {@link AgentRuntime}.
 * Called reflectively by the launcher inside the agent's own class loader. Never throws into the host.
 */
public final class Installer {

    private Installer() {
    }

    /** Returns one line for the command line (after an attach): what was done, or "error: ..." and why. */
    public static String install(String args, Instrumentation inst, boolean dynamic, File jar, long startNanos) {
        try {
            return doInstall(args, inst, dynamic, jar, startNanos);
        } catch (Throwable t) {
            Log.warn("not started: " + t);
            if (Log.debugEnabled()) {
                t.printStackTrace();
            }
            return "error: not started: " + t;
        }
    }

    private static String doInstall(String args, Instrumentation inst, boolean dynamic, File jar, long startNanos)
            throws Exception {
        List<Integration> integrations = Integrations.all();
        Settings settings = Settings.fromEnvironment(args, Integrations.settings(integrations));
        Log.setDebug(settings.bool("highwater.debug"));
        if (!settings.bool("highwater.enabled")) {
            String line = Version.get() + " disabled by highwater.enabled=false: nothing instrumented, nothing exported";
            Log.info(line);
            return line;
        }
        Bootstrap.ensure(inst, jar, Integrations.bootstrapClasses(integrations));
        // a separate class: linking anything that names a bootstrap type must wait until they are visible
        return AgentRuntime.start(settings, integrations, inst, dynamic, startNanos);
    }
}

package io.highwater.agent.launcher;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.util.jar.JarFile;

/**
 * Entry point of the agent jar ({@code Premain-Class}, {@code Agent-Class}, {@code Main-Class}). It is loaded
 * by the system class loader, so it stays tiny and uses only the JDK: it opens the agent's own class loader
 * and hands over. A failure here is printed and swallowed; the application always starts.
 */
public final class AgentLauncher {

    private static final String INSTALLER = "io.highwater.agent.Installer";
    private static final String CLI = "io.highwater.agent.Cli";

    private AgentLauncher() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    public static void main(String[] args) throws Exception {
        File jar = ownJar(null);
        ClassLoader loader = new AgentClassLoader(new JarFile(jar), ClassLoader.getSystemClassLoader());
        Method main = loader.loadClass(CLI).getMethod("main", File.class, String[].class);
        try {
            main.invoke(null, jar, args);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        }
    }

    private static void start(String args, Instrumentation inst, boolean dynamic) {
        long startNanos = System.nanoTime();
        try {
            File jar = ownJar(args);
            ClassLoader loader = new AgentClassLoader(new JarFile(jar), ClassLoader.getPlatformClassLoader());
            Method install = loader.loadClass(INSTALLER)
                    .getMethod("install", String.class, Instrumentation.class, boolean.class, File.class, long.class);
            install.invoke(null, args, inst, dynamic, jar, startNanos);
        } catch (Throwable t) {
            Throwable cause = t instanceof InvocationTargetException ? t.getCause() : t;
            System.err.println("[highwater] not started: " + cause);
        }
    }

    /**
     * The jar this agent runs from. A dynamic attach names it in its arguments ({@code jar=...}): when a newer
     * jar is attached to a JVM that loaded an older one, the system class loader hands back this class from
     * the older jar, which must still start the newer one.
     */
    private static File ownJar(String args) throws URISyntaxException {
        if (args != null) {
            for (String part : args.split(";")) {
                String p = part.trim();
                if (p.startsWith("jar=")) {
                    return new File(p.substring(4));
                }
            }
        }
        return new File(AgentLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}

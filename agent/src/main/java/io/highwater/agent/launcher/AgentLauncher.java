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
        String command = argument(args, "command");
        String reply;
        if (command != null) {
            reply = control(command);
        } else {
            try {
                File jar = ownJar(args);
                ClassLoader loader = new AgentClassLoader(new JarFile(jar), ClassLoader.getPlatformClassLoader());
                Method install = loader.loadClass(INSTALLER).getMethod("install",
                        String.class, Instrumentation.class, boolean.class, File.class, long.class);
                reply = (String) install.invoke(null, args, inst, dynamic, jar, startNanos);
            } catch (Throwable t) {
                Throwable cause = t instanceof InvocationTargetException ? t.getCause() : t;
                reply = "error: not started: " + cause;
                System.err.println("[highwater] not started: " + cause);
            }
        }
        reply(argument(args, "reply"), reply);
    }

    /**
     * Hands {@code command} to the agent instance already running in this JVM, through the bootstrap bridge
     * (the running instance may live in a class loader of an older jar). Uses reflection: this class must not
     * link against the bootstrap helpers, which may not be there.
     */
    @SuppressWarnings("unchecked")
    private static String control(String command) {
        try {
            Class<?> bridge = Class.forName("io.highwater.bootstrap.Bridge", false, null);
            Object control = bridge.getField("control").get(null);
            if (control == null) {
                return "error: highwater is not active in this JVM";
            }
            return ((java.util.function.Function<String, String>) control).apply(command);
        } catch (ClassNotFoundException e) {
            return "error: highwater was never loaded in this JVM";
        } catch (Throwable t) {
            return "error: " + command + " failed: " + t;
        }
    }

    /** The command line waits for this file: the only channel back from an attach. */
    private static void reply(String file, String text) {
        if (file == null || text == null) {
            return;
        }
        try {
            java.nio.file.Path tmp = java.nio.file.Paths.get(file + ".part");
            java.nio.file.Files.write(tmp, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.nio.file.Files.move(tmp, java.nio.file.Paths.get(file),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (Exception e) {
            System.err.println("[highwater] could not answer the command line at " + file + ": " + e);
        }
    }

    private static String argument(String args, String key) {
        if (args != null) {
            for (String part : args.split(";")) {
                String p = part.trim();
                if (p.startsWith(key + "=")) {
                    return p.substring(key.length() + 1);
                }
            }
        }
        return null;
    }

    /**
     * The jar this agent runs from. A dynamic attach names it in its arguments ({@code jar=...}): when a newer
     * jar is attached to a JVM that loaded an older one, the system class loader hands back this class from
     * the older jar, which must still start the newer one.
     */
    private static File ownJar(String args) throws URISyntaxException {
        String named = argument(args, "jar");
        if (named != null) {
            return new File(named);
        }
        return new File(AgentLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}

package io.highwater.agent;

import io.highwater.base.Version;
import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The agent jar's command line: {@code java -jar highwater-agent.jar list | attach | detach | status | version}.
 * It talks to other JVMs through the JDK's attach mechanism; settings for an attach are handed to the agent as
 * its arguments, never as system properties of the target (its own OpenTelemetry SDK may read those).
 * Exit codes: 0 success, 1 the operation failed, 2 usage, 3 nothing to do (already attached / not attached).
 */
public final class Cli {

    private static final int OK = 0;
    private static final int FAILED = 1;
    private static final int USAGE = 2;
    private static final int NOTHING_TO_DO = 3;

    private final File jar;

    private Cli(File jar) {
        this.jar = jar;
    }

    public static void main(File jar, String[] args) {
        System.exit(new Cli(jar).run(args));
    }

    int run(String[] args) {
        if (args.length == 0) {
            return usage(null);
        }
        String cmd = args[0];
        try {
            switch (cmd) {
                case "version":
                case "--version":
                    System.out.println("highwater " + Version.get());
                    return OK;
                case "list":
                    return list();
                case "attach":
                    return args.length < 2 ? usage("attach needs a pid") : attach(args[1], rest(args));
                case "detach":
                    return args.length != 2 ? usage("detach needs a pid") : command(args[1], "detach");
                case "status":
                    return args.length != 2 ? usage("status needs a pid") : command(args[1], "status");
                case "help":
                case "--help":
                case "-h":
                    usage(null);
                    return OK;
                default:
                    return usage("unknown command '" + cmd + "'");
            }
        } catch (Failure f) {
            System.err.println("highwater: " + f.getMessage());
            return f.code;
        }
    }

    private int usage(String problem) {
        if (problem != null) {
            System.err.println("highwater: " + problem);
        }
        String j = jar.getName();
        System.err.println("usage: java -jar " + j + " list                       JVMs you can attach to");
        System.err.println("       java -jar " + j + " attach <pid> [key=value]...  load the agent into a running JVM");
        System.err.println("       java -jar " + j + " status <pid>                 what the agent in that JVM does");
        System.err.println("       java -jar " + j + " detach <pid>                 remove the agent again");
        System.err.println("       java -jar " + j + " version");
        System.err.println("settings for attach: highwater.* keys (prefix optional) and otel.* keys, see the README");
        return problem == null ? OK : USAGE;
    }

    private int list() {
        List<VirtualMachineDescriptor> vms = VirtualMachine.list();
        String self = String.valueOf(ProcessHandle.current().pid());
        System.out.printf("%-8s %-10s %s%n", "PID", "HIGHWATER", "MAIN");
        for (VirtualMachineDescriptor d : vms) {
            if (d.id().equals(self)) {
                continue;
            }
            String state;
            try {
                VirtualMachine vm = VirtualMachine.attach(d);
                try {
                    String active = vm.getSystemProperties().getProperty(AgentControl.MARKER);
                    state = active == null ? "-" : active;
                } finally {
                    vm.detach();
                }
            } catch (AttachNotSupportedException | IOException | RuntimeException e) {
                state = "?";
            }
            System.out.printf("%-8s %-10s %s%n", d.id(), state, d.displayName().isEmpty() ? "(unknown)" : d.displayName());
        }
        return OK;
    }

    private int attach(String pid, List<String> settings) {
        VirtualMachine vm = connect(pid);
        try {
            Properties props = vm.getSystemProperties();
            String active = props.getProperty(AgentControl.MARKER);
            if (active != null) {
                System.out.println("highwater " + active + " is already active in " + pid
                        + "; nothing changed (use status, or detach first)");
                return NOTHING_TO_DO;
            }
            TargetView view = TargetView.of(pid);
            String targetJar = view.jarForTarget(jar.toPath(), Version.get());
            if (view.isOtherFileSystem()) {
                System.out.println("the JVM " + pid + " runs in a file system of its own (a container): the agent jar"
                        + " was copied to " + targetJar + " in it");
            }
            StringBuilder args = new StringBuilder("jar=").append(targetJar);
            for (String s : settings) {
                if (!s.contains("=") || s.contains(";")) {
                    throw new Failure(USAGE, "setting '" + s + "' is not key=value (and may not contain ';')");
                }
                args.append(';').append(s);
            }
            String reply = load(vm, pid, props, view, targetJar, args.toString());
            System.out.println(reply);
            return reply.startsWith("error:") ? FAILED : OK;
        } catch (IOException e) {
            throw new Failure(FAILED, "lost the connection to " + pid + ": " + e.getMessage());
        } finally {
            detachQuietly(vm);
        }
    }

    private int command(String pid, String command) {
        VirtualMachine vm = connect(pid);
        try {
            Properties props = vm.getSystemProperties();
            if (props.getProperty(AgentControl.MARKER) == null) {
                System.out.println("highwater is not active in " + pid);
                return NOTHING_TO_DO;
            }
            TargetView view = TargetView.of(pid);
            String targetJar = view.jarForTarget(jar.toPath(), Version.get());
            String reply = load(vm, pid, props, view, targetJar, "jar=" + targetJar + ";command=" + command);
            System.out.println(reply);
            return reply.startsWith("error:") ? FAILED : OK;
        } catch (IOException e) {
            throw new Failure(FAILED, "lost the connection to " + pid + ": " + e.getMessage());
        } finally {
            detachQuietly(vm);
        }
    }

    /**
     * Loads the agent jar ({@code targetJar}, as the target sees it) with {@code args} and returns the agent's answer,
     * read from a reply file the agent writes in the target's file system.
     */
    private String load(VirtualMachine vm, String pid, Properties props, TargetView view, String targetJar,
                        String args) throws IOException {
        Path reply = null;
        try {
            String replyInTarget = view.replyPathForTarget("highwater-reply-" + ProcessHandle.current().pid() + "-"
                    + System.nanoTime() + ".txt");
            reply = view.here(replyInTarget);
            vm.loadAgent(targetJar, args + ";reply=" + replyInTarget);
            if (!Files.exists(reply)) {
                throw new Failure(FAILED, "the agent in " + pid + " did not answer (see that JVM's stderr)");
            }
            return new String(Files.readAllBytes(reply), StandardCharsets.UTF_8).trim();
        } catch (AgentLoadException | AgentInitializationException e) {
            throw new Failure(FAILED, explainLoadFailure(pid, props, e));
        } catch (IOException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("EnableDynamicAgentLoading") || msg.toLowerCase().contains("dynamic")) {
                throw new Failure(FAILED, dynamicLoadingHint(pid, props));
            }
            throw new Failure(FAILED, "loading the agent into " + pid + " failed: " + e);
        } finally {
            if (reply != null) {
                try {
                    Files.deleteIfExists(reply);
                } catch (IOException ignored) {
                    // a temp file left behind
                }
            }
        }
    }

    private static String explainLoadFailure(String pid, Properties props, Exception e) {
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("EnableDynamicAgentLoading") || msg.contains("not enabled")) {
            return dynamicLoadingHint(pid, props);
        }
        return "the JVM " + pid + " refused the agent: " + e;
    }

    private static String dynamicLoadingHint(String pid, Properties props) {
        return "the JVM " + pid + " (Java " + props.getProperty("java.specification.version", "?")
                + ") does not allow agents to be loaded while it runs: start it with -XX:+EnableDynamicAgentLoading"
                + " (JDK 21+ warns about dynamic loading and may refuse it), or use -javaagent: at start-up";
    }

    private static VirtualMachine connect(String pid) {
        if (!pid.matches("\\d+")) {
            throw new Failure(USAGE, "'" + pid + "' is not a process id");
        }
        if (!ProcessHandle.of(Long.parseLong(pid)).isPresent()) {
            throw new Failure(FAILED, "no process with pid " + pid);
        }
        if (pid.equals(String.valueOf(ProcessHandle.current().pid()))) {
            throw new Failure(USAGE, "cannot attach to this command itself");
        }
        try {
            return VirtualMachine.attach(pid);
        } catch (AttachNotSupportedException e) {
            throw new Failure(FAILED, "cannot attach to " + pid + ": " + e.getMessage()
                    + " (is it a HotSpot JVM run by the same user, started without -XX:+DisableAttachMechanism?)");
        } catch (IOException e) {
            throw new Failure(FAILED, "cannot attach to " + pid + ": " + e.getMessage()
                    + (e.getMessage() != null && e.getMessage().contains("ermission")
                    ? " (attach only works for JVMs of the same user)" : ""));
        }
    }

    private static void detachQuietly(VirtualMachine vm) {
        try {
            vm.detach();
        } catch (IOException ignored) {
            // already gone
        }
    }

    private static List<String> rest(String[] args) {
        List<String> out = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            out.add(args[i]);
        }
        return out;
    }

    /** A failure with its exit code and the one line that explains it. */
    private static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int code;

        Failure(int code, String message) {
            super(message);
            this.code = code;
        }
    }
}

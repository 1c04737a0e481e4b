package io.highwater.it.support;

import io.highwater.it.apps.NettyExportServer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link NettyExportServer} (or an app wrapping it) running in a child JVM on one {@link NettyVariant},
 * optionally with the agent attached. {@link Builder#start()} waits for {@code LISTENING <port>} and checks that the
 * child really runs the Netty version and transport it was asked for.
 */
public final class ExportServer implements AutoCloseable {

    /** The agent's export interval in these tests. */
    public static final String EXPORT_INTERVAL = "500ms";
    public static final String SERVICE_NAME = "it-netty";

    private final ChildJvm child;
    private final int port;

    private ExportServer(ChildJvm child, int port) {
        this.child = child;
        this.port = port;
    }

    public static Builder builder(String name, NettyVariant variant) {
        return new Builder(name, variant);
    }

    /**
     * The agent arguments the tests use: export to {@code endpoint} every 500 ms as service {@code it-netty},
     * plus {@code extra} {@code key=value} settings. Keys are {@code otel.*} settings given to the agent, which win
     * over the host's own {@code OTEL_*}.
     */
    public static String agentArgs(String endpoint, String... extra) {
        StringBuilder sb = new StringBuilder()
                .append("otel.exporter.otlp.endpoint=").append(endpoint)
                .append(";otel.metric.export.interval=").append(EXPORT_INTERVAL)
                .append(";otel.service.name=").append(SERVICE_NAME);
        for (String e : extra) {
            sb.append(';').append(e);
        }
        return sb.toString();
    }

    public int port() {
        return port;
    }

    public ChildJvm child() {
        return child;
    }

    @Override
    public void close() {
        child.close();
    }

    /** Configures an {@link ExportServer}. */
    public static final class Builder {
        private final String name;
        private final NettyVariant variant;
        private String agentArgs;
        private Integer sndbuf;
        private String mainClass;
        private final List<Path> extraClassPath = new ArrayList<>();
        private final List<String[]> env = new ArrayList<>();
        private final List<String> removeEnv = new ArrayList<>();
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<String> appArgs = new ArrayList<>();
        private final List<String> wrapper = new ArrayList<>();

        private Builder(String name, NettyVariant variant) {
            this.name = name;
            this.variant = variant;
        }

        /** Attach the built agent jar with these arguments. */
        public Builder agent(String args) {
            this.agentArgs = args;
            return this;
        }

        /** Pin SO_SNDBUF of accepted connections (the kernel doubles it); OS auto-tuning otherwise. */
        public Builder sndbuf(int bytes) {
            this.sndbuf = bytes;
            return this;
        }

        public Builder mainClass(Class<?> main) {
            this.mainClass = main.getName();
            return this;
        }

        public Builder extraClassPath(List<Path> entries) {
            extraClassPath.addAll(entries);
            return this;
        }

        public Builder env(String key, String value) {
            env.add(new String[] {key, value});
            return this;
        }

        public Builder removeEnv(String key) {
            removeEnv.add(key);
            return this;
        }

        public Builder jvmArg(String... args) {
            jvmArgs.addAll(List.of(args));
            return this;
        }

        /** Runs the JVM through {@code command} (see {@link ChildJvm.Builder#wrapper}). */
        public Builder wrapper(List<String> command) {
            wrapper.addAll(command);
            return this;
        }

        /** Arguments of the server itself ({@code --tls <key store>}, {@code --compress}). */
        public Builder appArg(String... args) {
            appArgs.addAll(List.of(args));
            return this;
        }

        public ExportServer start() {
            ChildJvm.Builder b = ChildJvm.builder(name).wrapper(wrapper).classPath(variant.classPath())
                    .classPath(extraClassPath)
                    .mainClass(mainClass != null ? mainClass : variant.exportServerClass())
                    .args("--transport", variant.transport());
            if (agentArgs != null) {
                b.jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + agentArgs);
            }
            b.jvmArg(jvmArgs.toArray(new String[0]));
            if (sndbuf != null) {
                b.args("--sndbuf", String.valueOf(sndbuf));
            }
            b.args(appArgs.toArray(new String[0]));
            for (String[] kv : env) {
                b.env(kv[0], kv[1]);
            }
            for (String k : removeEnv) {
                b.removeEnv(k);
            }
            ChildJvm child = b.start();
            try {
                int port = child.awaitListening();
                String netty = child.awaitStdoutValue("NETTY-VERSION");
                String channel = child.awaitStdoutValue("CHANNEL");
                if (!netty.equals(variant.version()) || !channel.equals(variant.serverChannelClass())) {
                    throw new AssertionError(name + " runs Netty " + netty + " with " + channel + ", expected "
                            + variant.version() + " with " + variant.serverChannelClass() + "\n" + child.transcript());
                }
                return new ExportServer(child, port);
            } catch (RuntimeException | Error e) {
                child.close();
                throw e;
            }
        }
    }
}

package io.highwater.instrument;

import io.highwater.base.AgentTimer;
import io.highwater.config.Settings;
import io.highwater.core.Frameworks;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;

import java.lang.instrument.Instrumentation;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One integration with a library or a part of the JDK: the classes it instruments, with the versions it was tested
 * on, its advice, its adapter onto the model, its settings, its layer and signals. An integration is one package
 * (with its {@code advice} and {@code bootstrap} sub-packages); the agent finds every integration through one list,
 * {@code io.highwater.agent.Integrations}, and treats them all alike: switched by {@code highwater.<name>.enabled},
 * installed, named in the start-up line and by {@code status}, driven by the agent's timer, asked for what
 * connections already hold after an attach, and stopped at detach and JVM exit.
 */
public interface Integration {

    /** What {@code highwater.<name>.enabled} switches, e.g. {@code netty}. */
    String name();

    /** Its layer: the {@code backpressure.layer} it reports. */
    Layer layer();

    /**
     * What the start-up line claims it watches: only versions that were tested, e.g.
     * {@code "netty 4.1.100-4.2.18 and its relocated copies"}.
     */
    String watching();

    /** Its settings with their defaults, as full keys ({@code highwater.netty.tolerance}), beyond its switch. */
    default Map<String, String> settings() {
        return Collections.emptyMap();
    }

    /**
     * The classes of its {@code bootstrap} package, which the agent defines in the boot class loader, supertypes
     * first: what its advice calls, so that every class loader can see it.
     */
    List<String> bootstrapClasses();

    /**
     * Puts the integration in place: its hooks into its bootstrap classes, its adapter onto {@code context}'s
     * model. Nothing is instrumented yet: the agent applies the returned targets.
     *
     * @throws Unavailable when this JVM does not allow it (said in one line, and the integration stays off)
     */
    Installed install(Context context) throws Unavailable;

    /** What the agent drives once an integration is installed. */
    interface Installed {

        /** The classes to transform, each checked against its shape before it is changed. */
        List<AdviceTransformer.Target> targets();

        /** The episode timer's run (every quarter stall threshold, at least every second), before the model's. */
        default void tick() {
        }

        /** After an attach to a running JVM, once instrumented: find what connections already hold. */
        default void discoverAtAttach() {
        }

        /** The agent is going away (detach, JVM exit): the hooks point at no-ops and the advice's gates are 0. */
        void stop();

        /** An installation of these parts; {@code tick} and {@code discoverAtAttach} may be null (nothing to do). */
        static Installed of(List<AdviceTransformer.Target> targets, Runnable tick, Runnable discoverAtAttach,
                            Runnable stop) {
            return new Installed() {
                @Override
                public List<AdviceTransformer.Target> targets() {
                    return targets;
                }

                @Override
                public void tick() {
                    if (tick != null) {
                        tick.run();
                    }
                }

                @Override
                public void discoverAtAttach() {
                    if (discoverAtAttach != null) {
                        discoverAtAttach.run();
                    }
                }

                @Override
                public void stop() {
                    stop.run();
                }
            };
        }
    }

    /** What an integration gets from the agent. */
    interface Context {
        Settings settings();

        Monitor monitor();

        InstrumentationReport report();

        Instrumentation instrumentation();

        /** The agent's own thread, for an integration's jobs (the socket sampler's, say). */
        AgentTimer timer();

        Frameworks frameworks();
    }

    /** This JVM does not allow the integration; the message says why, in one line. */
    final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        public Unavailable(String why) {
            super(why);
        }
    }
}

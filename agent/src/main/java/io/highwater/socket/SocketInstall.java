package io.highwater.socket;

import io.highwater.base.AgentTimer;
import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.Integration;
import io.highwater.socket.bootstrap.SocketHooks;
import io.highwater.socket.bootstrap.SocketWrites;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@link SocketIntegration#install}: a class of its own, as it names bootstrap types (see the integration's). */
final class SocketInstall {

    /** How much less often the sampler looks while no socket write is in progress. */
    private static final int IDLE_SAMPLE_FACTOR = 10;

    private SocketInstall() {
    }

    static Integration.Installed install(Integration.Context context) throws Integration.Unavailable {
        String refused = SocketInstrumentation.prepareModules(context.instrumentation());
        if (refused != null) {
            throw new Integration.Unavailable(refused);
        }
        SocketAdapter adapter = new SocketAdapter(context.monitor(),
                context.settings().integer("highwater.connections.max", 1, 10_000_000));
        SocketWrites.nioWaiting.set(0);
        SocketWrites.hooks = adapter;
        SocketWrites.active = true;
        long periodNanos = TimeUnit.MILLISECONDS.toNanos(
                context.settings().duration("highwater.socket.sample", Duration.ofMillis(1)).toMillis());
        Sampler sampler = new Sampler(adapter, periodNanos);
        sampler.job = context.timer().onDemand("socket sampler", sampler);
        sampler.job.runIn(periodNanos);
        List<AdviceTransformer.Target> targets = SocketInstrumentation.targets(context.report());
        return Integration.Installed.of(targets, adapter::tick, null, () -> {
            sampler.stopped = true;
            SocketWrites.hooks = SocketHooks.NOOP;
            adapter.reset();
        });
    }

    /**
     * The sampler, every period while some socket write is in progress and ten times less often while none is, so
     * an idle JVM is not woken a hundred times a second. Each run arms the next, which allocates nothing; what it
     * throws goes to the timer, and the next run is armed first.
     */
    private static final class Sampler implements Runnable {
        private final SocketAdapter adapter;
        private final long periodNanos;
        volatile boolean stopped;
        AgentTimer.Job job;

        Sampler(SocketAdapter adapter, long periodNanos) {
            this.adapter = adapter;
            this.periodNanos = periodNanos;
        }

        @Override
        public void run() {
            if (stopped) {
                return;
            }
            boolean busy = true;
            try {
                busy = adapter.sample();
            } finally {
                if (!stopped) {
                    job.runIn(busy ? periodNanos : IDLE_SAMPLE_FACTOR * periodNanos);
                }
            }
        }
    }
}

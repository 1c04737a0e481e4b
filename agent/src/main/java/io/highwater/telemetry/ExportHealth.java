package io.highwater.telemetry;

import io.highwater.agent.Log;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Wraps the metric exporter to say once that export fails, and once more when it works again, instead of a
 * line per attempt. Export runs on the SDK's reader thread; application threads never wait for it.
 */
final class ExportHealth implements MetricExporter {

    private final MetricExporter delegate;
    private final String endpoint;
    private final AtomicBoolean failing = new AtomicBoolean();
    /** Set at shutdown: an export cut short by it is not news. */
    private volatile boolean closing;

    ExportHealth(MetricExporter delegate, String endpoint) {
        this.delegate = delegate;
        this.endpoint = endpoint;
    }

    @Override
    public CompletableResultCode export(Collection<MetricData> metrics) {
        CompletableResultCode result = delegate.export(ownOnly(metrics));
        result.whenComplete(() -> {
            Throwable t = result.getFailureThrowable();
            if (result.isSuccess()) {
                if (failing.compareAndSet(true, false)) {
                    Log.info("export recovered: metrics reach " + endpoint + " again");
                }
            } else if (causedBy(t, RejectedExecutionException.class)) {
                // earlier exports are still retrying; their own failure names the real cause
                return;
            } else if (!closing && failing.compareAndSet(false, true)) {
                Log.warn("export failed to " + endpoint + (t == null ? "" : ": " + rootMessage(t))
                        + " (the application is unaffected; this is said once, and again when export recovers)");
            }
        });
        return result;
    }

    /**
     * Only the agent's own instruments: the relocated SDK also meters itself (its exporter's counters), under
     * scope names that would expose the relocated packages and mean nothing to the user.
     */
    private static Collection<MetricData> ownOnly(Collection<MetricData> metrics) {
        List<MetricData> own = new ArrayList<>(metrics.size());
        for (MetricData m : metrics) {
            if (Telemetry.SCOPE.equals(m.getInstrumentationScopeInfo().getName())) {
                own.add(m);
            }
        }
        return own;
    }

    boolean failing() {
        return failing.get();
    }

    void closing() {
        closing = true;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        return root.getClass().getSimpleName() + (m == null ? "" : " " + m);
    }

    @Override
    public CompletableResultCode flush() {
        return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
        return delegate.shutdown();
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
        return delegate.getAggregationTemporality(instrumentType);
    }

    @Override
    public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
        return delegate.getDefaultAggregation(instrumentType);
    }

    @Override
    public MemoryMode getMemoryMode() {
        return delegate.getMemoryMode();
    }
}

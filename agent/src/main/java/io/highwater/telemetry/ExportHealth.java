package io.highwater.telemetry;

import io.highwater.agent.Log;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;

import java.util.Collection;
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
        CompletableResultCode result = delegate.export(metrics);
        result.whenComplete(() -> {
            if (result.isSuccess()) {
                if (failing.compareAndSet(true, false)) {
                    Log.info("export recovered: metrics reach " + endpoint + " again");
                }
            } else if (!closing && failing.compareAndSet(false, true)) {
                Throwable t = result.getFailureThrowable();
                Log.warn("export failed to " + endpoint + (t == null ? "" : ": " + rootMessage(t))
                        + " (the application is unaffected; this is said once, and again when export recovers)");
            }
        });
        return result;
    }

    boolean failing() {
        return failing.get();
    }

    void closing() {
        closing = true;
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

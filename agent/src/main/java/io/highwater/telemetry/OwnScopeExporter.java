package io.highwater.telemetry;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;

import java.util.ArrayList;
import java.util.Collection;

/**
 * Wraps the metric exporter so that only the agent's own instruments are exported: the relocated SDK also meters
 * itself (its exporter's counters), under scope names that would expose the relocated packages and mean nothing to
 * the user. How exports fare is reported by the senders ({@link ExportStatus}).
 *
 * <p>Called by {@link MetricShipper} only, one export at a time (the next starts when the previous is done), so
 * one list, allocated with the exporter, serves every export.
 */
final class OwnScopeExporter implements MetricExporter {

    private final MetricExporter delegate;
    private final ArrayList<MetricData> own = new ArrayList<>(32);

    OwnScopeExporter(MetricExporter delegate) {
        this.delegate = delegate;
    }

    @Override
    public CompletableResultCode export(Collection<MetricData> metrics) {
        own.clear();
        for (MetricData m : metrics) {
            if (Telemetry.SCOPE.equals(m.getInstrumentationScopeInfo().getName())) {
                own.add(m);
            }
        }
        return delegate.export(own);
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

    @Override
    public String toString() {
        return "OwnScopeExporter{" + delegate + '}';
    }
}

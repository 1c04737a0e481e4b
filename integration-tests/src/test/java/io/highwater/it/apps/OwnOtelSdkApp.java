package io.highwater.it.apps;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.resources.Resource;

import java.util.Collection;

/**
 * An application that brings its OWN OpenTelemetry SDK (a different version from the agent's, on the plain class
 * path, unshaded) and also serves {@link NettyExportServer}'s endpoints. Used to check that the agent and the
 * application's SDK do not disturb each other.
 *
 * <p>It registers its SDK as the global OpenTelemetry (which fails if anyone, such as an agent, already did),
 * counts 42 on its own counter through the global API, reads the value back with its own in-memory reader and
 * prints {@code OWN-SDK-JAR <jar of SdkMeterProvider>} and {@code OWN-SDK-OK <value>}; on any failure it prints
 * {@code OWN-SDK-FAILED <exception>}. Then it runs {@link NettyExportServer} with the same arguments.
 */
public final class OwnOtelSdkApp {

    public static final String COUNTER = "own.app.requests";

    private OwnOtelSdkApp() {
    }

    public static void main(String[] args) throws Exception {
        try {
            OwnReader reader = new OwnReader();
            SdkMeterProvider meters = SdkMeterProvider.builder()
                    .setResource(Resource.getDefault().merge(Resource.create(
                            Attributes.of(AttributeKey.stringKey("service.name"), "own-sdk-app"))))
                    .registerMetricReader(reader)
                    .build();
            OpenTelemetrySdk.builder().setMeterProvider(meters).buildAndRegisterGlobal();
            LongCounter counter = GlobalOpenTelemetry.getMeter("own-app").counterBuilder(COUNTER).build();
            counter.add(40);
            counter.add(2);
            long value = -1;
            for (MetricData m : reader.collect()) {
                if (m.getName().equals(COUNTER)) {
                    for (LongPointData p : m.getLongSumData().getPoints()) {
                        value = p.getValue();
                    }
                }
            }
            System.out.println("OWN-SDK-JAR "
                    + SdkMeterProvider.class.getProtectionDomain().getCodeSource().getLocation());
            System.out.println("OWN-SDK-OK " + value);
        } catch (Throwable t) {
            System.out.println("OWN-SDK-FAILED " + t);
            t.printStackTrace();
        }
        System.out.flush();
        NettyExportServer.main(args);
    }

    /** The application's own pull reader: keeps the registration and collects on demand. No exporter, no logs. */
    static final class OwnReader implements MetricReader {
        private volatile CollectionRegistration registration = CollectionRegistration.noop();

        @Override
        public void register(CollectionRegistration registration) {
            this.registration = registration;
        }

        Collection<MetricData> collect() {
            return registration.collectAllMetrics();
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
            return AggregationTemporality.CUMULATIVE;
        }

        @Override
        public CompletableResultCode forceFlush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}

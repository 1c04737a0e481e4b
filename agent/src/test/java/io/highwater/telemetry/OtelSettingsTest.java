package io.highwater.telemetry;

import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OtelSettingsTest {

    @Test
    void theHostsExemplarFilterDoesNotReachTheAgentsHistogram() {
        // set by the host for its own SDK: highwater records a drain wait at every go signal on the event loop
        Map<String, String> out = OtelSettings.overrides(DefaultConfigProperties.createFromMap(
                Collections.singletonMap("otel.metrics.exemplar.filter", "trace_based")), Collections.emptyMap());
        assertThat(out).containsEntry("otel.metrics.exemplar.filter", "always_off");
    }

    @Test
    void theHostSwitchingItsOwnExportersOffDoesNotSilenceTheAgent() {
        Map<String, String> host = new java.util.HashMap<>();
        host.put("otel.metrics.exporter", "none");
        host.put("otel.traces.exporter", "none");
        Map<String, String> out = OtelSettings.overrides(DefaultConfigProperties.createFromMap(host),
                Collections.emptyMap());
        assertThat(out).containsEntry("otel.metrics.exporter", "otlp").containsEntry("otel.traces.exporter", "otlp");
        Map<String, String> own = OtelSettings.overrides(DefaultConfigProperties.createFromMap(host),
                Collections.singletonMap("otel.metrics.exporter", "none"));
        assertThat(own).as("highwater.otel.metrics.exporter=none").containsEntry("otel.metrics.exporter", "none");
    }

    @Test
    void highwatersOwnSettingStillWins() {
        Map<String, String> out = OtelSettings.overrides(DefaultConfigProperties.createFromMap(Collections.emptyMap()),
                Collections.singletonMap("otel.metrics.exemplar.filter", "trace_based"));
        assertThat(out).containsEntry("otel.metrics.exemplar.filter", "trace_based");
    }
}

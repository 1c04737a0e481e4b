package io.highwater.telemetry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SpanExportClassesTest {

    @Test
    void everyClassASpanExportNeedsExistsInTheBundledOpenTelemetry() {
        assertThat(SpanExportClasses.preload(SpanExportClassesTest.class.getClassLoader()))
                .as("classes loaded of %d (a renamed class in a new OpenTelemetry version: update the list)",
                        SpanExportClasses.NAMES.length)
                .isEqualTo(SpanExportClasses.NAMES.length);
    }
}

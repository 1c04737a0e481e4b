package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UnitsTest {

    @Test
    void sizesUseTheJvmConventionOfPowersOf1024() {
        assertThat(Units.parseSize("16384")).isEqualTo(16384);
        assertThat(Units.parseSize("200k")).isEqualTo(200 * 1024);
        assertThat(Units.parseSize("200KB/s")).isEqualTo(200 * 1024);
        assertThat(Units.parseSize("400m")).isEqualTo(400L << 20);
        assertThat(Units.parseSize("400MiB")).isEqualTo(400L << 20);
        assertThat(Units.parseSize("1.5g")).isEqualTo(3L << 29);
        assertThatThrownBy(() -> Units.parseSize("lots")).isInstanceOf(IllegalArgumentException.class);
        for (long v : new long[] {0, 1000, 16 * 1024, 400L << 20, 2L << 30}) {
            assertThat(Units.parseSize(Units.sizeArgument(v))).isEqualTo(v);
        }
        assertThat(Units.sizeArgument(400L << 20)).isEqualTo("400m");
        assertThat(Units.size(64 * 1024)).isEqualTo("64.0 KiB");
    }

    @Test
    void durations() {
        assertThat(Units.parseDurationNanos("20")).isEqualTo(20_000_000_000L);
        assertThat(Units.parseDurationNanos("2s")).isEqualTo(2_000_000_000L);
        assertThat(Units.parseDurationNanos("500ms")).isEqualTo(500_000_000L);
        assertThat(Units.parseDurationNanos("1m")).isEqualTo(60_000_000_000L);
    }
}

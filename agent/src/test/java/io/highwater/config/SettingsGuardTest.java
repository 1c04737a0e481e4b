package io.highwater.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The guard's settings: sizes, choices, fractions and durations, and bad values falling back to the default. */
class SettingsGuardTest {

    private static Settings load(String args) {
        return Settings.load(args, new Properties().entrySet(), Collections.<String, String>emptyMap());
    }

    @Test
    void defaultsAreOffAndDocumented() {
        Settings s = load(null);
        assertThat(s.choice("highwater.guard.mode", "off", "observe", "enforce")).isEqualTo("off");
        assertThat(s.size("highwater.guard.connection.max", 1)).isEqualTo(64L << 20);
        assertThat(s.duration("highwater.guard.stall", Duration.ofMillis(100))).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.decimal("highwater.guard.memory.reserve", 0, 1)).isEqualTo(0.10);
        assertThat(s.choice("highwater.guard.action", "close", "fail")).isEqualTo("close");
    }

    @Test
    void givenValuesAreRead() {
        Settings s = load("guard.mode=ENFORCE;guard.connection.max=32MiB;guard.stall=2s;guard.memory.reserve=0.25;"
                + "guard.action=fail");
        assertThat(s.choice("highwater.guard.mode", "off", "observe", "enforce")).isEqualTo("enforce");
        assertThat(s.size("highwater.guard.connection.max", 1)).isEqualTo(32L << 20);
        assertThat(s.duration("highwater.guard.stall", Duration.ofMillis(100))).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.decimal("highwater.guard.memory.reserve", 0, 1)).isEqualTo(0.25);
        assertThat(s.choice("highwater.guard.action", "close", "fail")).isEqualTo("fail");
    }

    @Test
    void sizesTakeTheUnitsOfXmx() {
        for (Map.Entry<String, Long> e : Map.of("512", 512L, "4k", 4096L, "4KiB", 4096L, "64m", 64L << 20,
                "64 MB", 64L << 20, "1g", 1L << 30, "2GiB", 2L << 30, "7B", 7L).entrySet()) {
            assertThat(Settings.parseSize(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        }
        for (String bad : new String[] {"", "MiB", "1.5m", "-1", "12TB", "99999999999999999g"}) {
            assertThat(Settings.parseSize(bad)).as(bad).isEqualTo(-1);
        }
    }

    @Test
    void badValuesKeepTheDefault() {
        Settings s = load("guard.mode=on;guard.connection.max=lots;guard.stall=10ms;guard.memory.reserve=2;"
                + "guard.action=drop");
        assertThat(s.choice("highwater.guard.mode", "off", "observe", "enforce")).isEqualTo("off");
        assertThat(s.size("highwater.guard.connection.max", 1)).isEqualTo(64L << 20);
        assertThat(s.duration("highwater.guard.stall", Duration.ofMillis(100))).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.decimal("highwater.guard.memory.reserve", 0, 1)).isEqualTo(0.10);
        assertThat(s.choice("highwater.guard.action", "close", "fail")).isEqualTo("close");
    }
}

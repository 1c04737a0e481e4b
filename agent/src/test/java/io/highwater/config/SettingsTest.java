package io.highwater.config;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

class SettingsTest {

    private static Set<Map.Entry<Object, Object>> props(String... kv) {
        Set<Map.Entry<Object, Object>> s = new HashSet<>();
        for (int i = 0; i < kv.length; i += 2) {
            s.add(new AbstractMap.SimpleEntry<>(kv[i], kv[i + 1]));
        }
        return s;
    }

    private static <T> String stderrOf(Supplier<T> action) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            action.get();
        } finally {
            System.setErr(old);
        }
        return new String(buf.toByteArray(), StandardCharsets.UTF_8);
    }

    @Test
    void agentArgumentsBeatSystemPropertiesWhichBeatEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("HIGHWATER_CONNECTIONS_TOP", "3");
        env.put("HIGHWATER_CONNECTIONS_MAX", "7");
        env.put("HIGHWATER_CALLSITE_MAX", "9");
        Settings s = Settings.load("connections.top=5", props("highwater.connections.top", "4",
                "highwater.connections.max", "6"), env);
        assertThat(s.integer("highwater.connections.top", 0, 100)).isEqualTo(5);
        assertThat(s.integer("highwater.connections.max", 0, 100)).isEqualTo(6);
        assertThat(s.integer("highwater.callsite.max", 0, 100)).isEqualTo(9);
    }

    @Test
    void defaultsApplyWhenNothingIsSet() {
        Settings s = Settings.load(null, props(), Collections.emptyMap());
        assertThat(s.bool("highwater.enabled")).isTrue();
        assertThat(s.bool("highwater.console")).isFalse();
        assertThat(s.decimal("highwater.netty.tolerance", 0, 10)).isEqualTo(1.0);
        assertThat(s.integer("highwater.connections.max", 1, Integer.MAX_VALUE)).isEqualTo(10_000);
        assertThat(s.integer("highwater.connections.top", 0, 1000)).isEqualTo(10);
        assertThat(s.duration("highwater.console.interval", Duration.ZERO)).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void badValuesFallBackToTheDefaultWithOneLineNamingTheSetting() {
        Settings s = Settings.load("connections.top=lots;netty.tolerance=-2;console=yes;console.interval=soon",
                props(), Collections.emptyMap());
        String err = stderrOf(() -> s.integer("highwater.connections.top", 0, 1000));
        assertThat(err).contains("highwater.connections.top='lots'").contains("default 10");
        assertThat(err.split("\n")).hasSize(1);
        assertThat(stderrOf(() -> s.decimal("highwater.netty.tolerance", 0, 1000))).contains("default 1.0");
        assertThat(stderrOf(() -> s.bool("highwater.console"))).contains("highwater.console='yes'");
        assertThat(stderrOf(() -> s.duration("highwater.console.interval", Duration.ZERO)))
                .contains("highwater.console.interval='soon'");
        assertThat(s.integer("highwater.connections.top", 0, 1000)).isEqualTo(10);
        assertThat(s.bool("highwater.console")).isFalse();
    }

    @Test
    void unknownKeysAndMalformedArgumentsAreReportedNotFatal() {
        String err = stderrOf(() -> Settings.load("conection.top=3;justakey", props(), Collections.emptyMap()));
        assertThat(err).contains("unknown setting highwater.conection.top").contains("'justakey' ignored");
    }

    @Test
    void otelSettingsGivenToTheAgentBecomeOverrides() {
        Map<String, String> env = new HashMap<>();
        env.put("HIGHWATER_OTEL_SERVICE_NAME", "from-env");
        Settings s = Settings.load("otel.exporter.otlp.endpoint=http://collector:4318",
                props("highwater.otel.metric.export.interval", "2s"), env);
        assertThat(s.otelOverrides())
                .containsEntry("otel.exporter.otlp.endpoint", "http://collector:4318")
                .containsEntry("otel.metric.export.interval", "2s")
                .containsEntry("otel.service.name", "from-env");
    }

    @Test
    void durationsFollowTheOpenTelemetryStyle() {
        assertThat(Settings.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Settings.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Settings.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Settings.parseDuration("250")).isEqualTo(Duration.ofMillis(250));
        assertThat(Settings.parseDuration("1.5s")).isNull();
        assertThat(Settings.parseDuration("s")).isNull();
        assertThat(Settings.parseDuration("10 parsecs")).isNull();
    }
}

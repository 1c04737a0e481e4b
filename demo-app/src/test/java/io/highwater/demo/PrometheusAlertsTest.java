package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Reading Prometheus's /api/v1/alerts answer. */
class PrometheusAlertsTest {

    @Test
    void oneStatePerAlertNameFiringWins() {
        String answer = "{\"status\":\"success\",\"data\":{\"alerts\":["
                + "{\"labels\":{\"alertname\":\"HighwaterIgnoredWrites\",\"job\":\"highwater-demo\"},"
                + "\"annotations\":{\"summary\":\"writes \\\"ignored\\\" \\u2014 see\"},\"state\":\"pending\","
                + "\"activeAt\":\"2025-01-01T00:00:00Z\",\"value\":\"1.2e+03\"},"
                + "{\"labels\":{\"alertname\":\"HighwaterIgnoredWrites\",\"instance\":\"b\"},\"state\":\"firing\"},"
                + "{\"labels\":{\"alertname\":\"HighwaterPendingBytesHigh\"},\"state\":\"pending\"}]}}";
        assertThat(PrometheusAlerts.parse(answer))
                .containsEntry("HighwaterIgnoredWrites", "firing")
                .containsEntry("HighwaterPendingBytesHigh", "pending")
                .hasSize(2);
        assertThat(PrometheusAlerts.parse("{\"status\":\"success\",\"data\":{\"alerts\":[]}}")).isEmpty();
    }

    @Test
    void anErrorAnswerIsAnError() {
        assertThatThrownBy(() -> PrometheusAlerts.parse("{\"status\":\"error\",\"error\":\"x\"}"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PrometheusAlerts.parse("<html>")).isInstanceOf(IllegalArgumentException.class);
    }
}

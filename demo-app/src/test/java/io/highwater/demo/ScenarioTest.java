package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ScenarioTest {

    @Test
    void theIgnoringEndpointRunsOutOfDirectMemoryAboutHalfwayThroughPhaseTwo() {
        assertThat(Scenario.defaultIgnoringRate(128L << 20, TimeUnit.SECONDS.toNanos(8))).isEqualTo(32L << 20);
        assertThat(Scenario.defaultIgnoringRate(128L << 20, TimeUnit.SECONDS.toNanos(30))).isEqualTo(9L << 20);
        assertThat(Scenario.defaultIgnoringRate(1L << 20, TimeUnit.SECONDS.toNanos(30))).isEqualTo(1L << 20);
    }
}

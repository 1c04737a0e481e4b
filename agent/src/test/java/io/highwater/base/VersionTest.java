package io.highwater.base;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VersionTest {

    /** The build fills the version in: an unfiltered resource would put "${project.version}" on every metric. */
    @Test
    void theVersionIsTheBuildsOwn() {
        assertThat(Version.get()).matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }
}

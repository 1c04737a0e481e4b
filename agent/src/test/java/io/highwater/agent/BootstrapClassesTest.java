package io.highwater.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.highwater.bootstrap.Bridge;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

class BootstrapClassesTest {

    /** The agent defines exactly the classes it names: a helper added without its name would be missing at run time. */
    @Test
    void theNamedBootstrapClassesAreExactlyTheCompiledOnes() throws Exception {
        File folder = new File(Bridge.class.getResource("Bridge.class").toURI()).getParentFile();
        Set<String> compiled = new TreeSet<>();
        for (String file : folder.list()) {
            if (file.endsWith(".class")) {
                compiled.add("io.highwater.bootstrap." + file.substring(0, file.length() - ".class".length()));
            }
        }
        assertThat(new TreeSet<>(Arrays.asList(Bootstrap.CLASSES))).isEqualTo(compiled);
    }
}

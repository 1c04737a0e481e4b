package io.highwater.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.highwater.bootstrap.Bridge;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.Set;
import java.util.TreeSet;

class BootstrapClassesTest {

    /**
     * The agent defines exactly the classes the integrations name, and the Bridge: a helper added without its name
     * would be missing at run time, in the application's class loaders, as a NoClassDefFoundError inside advice.
     */
    @Test
    void theNamedBootstrapClassesAreExactlyTheCompiledOnes() throws Exception {
        File root = new File(Bridge.class.getResource("Bridge.class").toURI()).getParentFile().getParentFile();
        Set<String> compiled = new TreeSet<>();
        collect(new File(root, "bootstrap"), "io.highwater.bootstrap.", compiled);
        for (File pkg : root.listFiles(File::isDirectory)) {
            collect(new File(pkg, "bootstrap"), "io.highwater." + pkg.getName() + ".bootstrap.", compiled);
        }
        assertThat(compiled).contains("io.highwater.bootstrap.Bridge", "io.highwater.netty.bootstrap.NettyCalls");
        assertThat(new TreeSet<>(Integrations.bootstrapClasses(Integrations.all()))).isEqualTo(compiled);
    }

    private static void collect(File folder, String prefix, Set<String> out) {
        String[] files = folder.list();
        if (files == null) {
            return;
        }
        for (String file : files) {
            if (file.endsWith(".class")) {
                out.add(prefix + file.substring(0, file.length() - ".class".length()));
            }
        }
    }
}

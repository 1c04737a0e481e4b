package io.highwater.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The figures of docs/fidelity.md: for a production shape, the ground truth a test measured (the application's own
 * count, the framework's counters, the kernel's send queue) next to what the agent exported, one line each in
 * {@code target/fidelity.tsv}, so that the table is a run's output rather than a claim.
 */
public final class Fidelity {

    private static final Path FILE = Path.of("target", "fidelity.tsv");

    private Fidelity() {
    }

    public static synchronized void record(String shape, String truthWhat, long truth, String reportedWhat,
                                           long reported) {
        String line = String.join("\t", shape, truthWhat, Long.toString(truth), reportedWhat, Long.toString(reported),
                System.getProperty("java.version")) + "\n";
        try {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.print("fidelity: " + line);
    }
}

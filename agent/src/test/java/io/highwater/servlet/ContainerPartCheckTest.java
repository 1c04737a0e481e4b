package io.highwater.servlet;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.instrument.Reference;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A container's stream is changed only when every reference its part reads is there: a gap leaves the class as it
 * was and says what is missing in the report (the start-up line and {@code status}), rather than advising a stream
 * whose bytes, addresses or state the agent could not read later.
 */
class ContainerPartCheckTest {

    private static final String NAME = FakeContainerStream.class.getName();

    private static byte[] transform(List<Reference> references, InstrumentationReport report) throws Exception {
        ClassLoader loader = ContainerPartCheckTest.class.getClassLoader();
        String internalName = NAME.replace('.', '/');
        byte[] original;
        try (InputStream in = loader.getResourceAsStream(internalName + ".class")) {
            original = in.readAllBytes();
        }
        ServletInstrumentation.Stream stream = new ServletInstrumentation.Stream("fake", NAME, true, true, null) {
            @Override
            protected List<Reference> references() {
                return references;
            }
        };
        AdviceTransformer.Target target = ServletInstrumentation.streamTarget(stream, report);
        return new AdviceTransformer(loader, List.of(target)).transform(loader, internalName, null, null, original);
    }

    @Test
    void aStreamWhoseReferencesAreAllThereIsAdvised() throws Exception {
        InstrumentationReport report = new InstrumentationReport();
        byte[] advised = transform(List.of(Reference.field(NAME, "listener", null),
                Reference.method(NAME, "boolean", "isReady")), report);
        assertThat(advised).isNotNull();
        assertThat(report.skipped()).isEmpty();
        assertThat(report.instrumented()).singleElement().asString().startsWith("fake ").contains("FakeContainerStream");
    }

    @Test
    void aMissingReferenceSkipsTheStreamWithOneLineNamingIt() throws Exception {
        InstrumentationReport report = new InstrumentationReport();
        byte[] advised = transform(List.of(Reference.field(NAME, "listener", null),
                Reference.field(NAME, "_servletChannel", null),
                Reference.method("org.example.Exchange", "java.net.InetSocketAddress", "getSourceAddress")), report);
        assertThat(advised).as("the class stays as it was").isNull();
        assertThat(report.instrumented()).isEmpty();
        assertThat(report.skipped()).singleElement().asString()
                .contains("FakeContainerStream lacks field FakeContainerStream._servletChannel, "
                        + "method Exchange.getSourceAddress()")
                .endsWith("its streams are not watched");
    }
}

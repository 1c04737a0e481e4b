package io.highwater.netty;

import io.highwater.instrument.Reference;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the agent reads of a copy of Netty is checked against that copy's class files before its classes are changed:
 * the Netty the agent is built against has all of it, and every handle resolves; a copy under a prefix that holds no
 * Netty lacks every class (so a relocated copy is judged by its own classes, never by Netty's).
 */
class NettyReferencesTest {

    private static final ClassLoader LOADER = NettyReferencesTest.class.getClassLoader();

    @Test
    void nettyHasEverythingTheAgentReads() {
        List<Reference> references = NettyAccess.references("");
        assertThat(Reference.missing(LOADER, references)).isEmpty();
        for (Reference r : references) {
            assertThat(r.owner()).startsWith("io.netty.");
        }
    }

    @Test
    void aCopyThatIsNotThereLacksEverything() {
        List<Reference> references = NettyAccess.references("org.example.shaded.");
        assertThat(Reference.missing(LOADER, references)).hasSize(references.size());
    }
}

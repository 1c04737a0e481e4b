package io.highwater.instrument;

import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The muzzle-like check: what a library's class files hold, read without loading them, against the same declarations
 * that are resolved into method handles later. The JDK's own classes stand in for a library's.
 */
class ReferenceTest {

    private static final ClassLoader LOADER = ReferenceTest.class.getClassLoader();

    /** A class of this test's own, as a library's would be: fields in a class and its superclass. */
    public static class Base {
        private final Object inherited = "base";
    }

    public static final class Derived extends Base {
        private final AtomicReference<String> state = new AtomicReference<>("x");

        public boolean isClosed() {
            return state.get() == null;
        }
    }

    @Test
    void presentReferencesAreNotReportedAndResolveToWorkingHandles() throws Throwable {
        Reference field = Reference.field(Derived.class.getName(), "state", AtomicReference.class.getName());
        Reference superField = Reference.field(Derived.class.getName(), "inherited", null);
        Reference method = Reference.method(Derived.class.getName(), "boolean", "isClosed");
        Reference inherited = Reference.method("java.util.ArrayList", "int", "size");
        assertThat(Reference.missing(LOADER, List.of(field, superField, method, inherited,
                Reference.type("java.nio.ByteBuffer")))).isEmpty();

        Derived d = new Derived();
        MethodHandle state = field.resolve(LOADER);
        assertThat(((AtomicReference<?>) state.invoke(d)).get()).isEqualTo("x");
        assertThat(superField.resolve(LOADER).invoke(d)).isEqualTo("base");
        assertThat((boolean) method.resolve(LOADER).invoke(d)).isFalse();
    }

    @Test
    void everyGapIsNamedOnce() {
        List<String> missing = Reference.missing(LOADER, List.of(
                Reference.type("org.example.NotThere"),
                Reference.field(Derived.class.getName(), "_state", null),
                Reference.field(Derived.class.getName(), "state", "java.nio.ByteBuffer"),
                Reference.method(Derived.class.getName(), "int", "isClosed"),
                Reference.method(Derived.class.getName(), "boolean", "isClosed", "int"),
                Reference.field("org.example.NotThere", "x", null)));
        assertThat(missing).containsExactly(
                "class org.example.NotThere",
                "field ReferenceTest$Derived._state",
                "field ReferenceTest$Derived.state",
                "method ReferenceTest$Derived.isClosed()",
                "method ReferenceTest$Derived.isClosed(int)",
                "field NotThere.x");
    }

    @Test
    void aMissingReferenceResolvesToNull() {
        assertThat(Reference.field(Derived.class.getName(), "_state", null).resolve(LOADER)).isNull();
        assertThat(Reference.method("org.example.NotThere", "int", "size").resolve(LOADER)).isNull();
    }
}

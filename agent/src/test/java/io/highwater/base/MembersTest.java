package io.highwater.base;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Reads by name, as the agent's slow paths read libraries' private state: declared, inherited, missing, throwing. */
class MembersTest {

    static class Base {
        private final long pending = 42;
        private static final String KIND = "base";

        private boolean open() {
            return true;
        }

        private static String kind() {
            return KIND;
        }
    }

    static final class Child extends Base {
        private final Object stream = new Object();
        // the same name as another class's field: a reader resolves per class
        private final int pending = 7;

        Object boom() {
            throw new IllegalStateException("the library's own failure");
        }
    }

    @Test
    void readsFieldsAndMethodsDeclaredOrInheritedWhateverTheirAccess() {
        Child c = new Child();
        assertEquals(7, Members.get(c, "pending"), "the class's own field hides the superclass's");
        assertEquals(42L, Members.get(new Base(), "pending"));
        assertSame(c.stream, Members.get(c, "stream"));
        assertEquals(Boolean.TRUE, Members.invoke(c, "open"), "an inherited private method");
        assertEquals("base", Members.invoke(c, "kind"), "a static method, read through an instance");
        assertEquals("base", Members.get(c, "KIND"), "a static field, read through an instance");
    }

    @Test
    void answersNullInsteadOfThrowing() {
        Child c = new Child();
        assertNull(Members.get(c, "noSuchField"));
        assertNull(Members.invoke(c, "noSuchMethod"));
        assertNull(Members.invoke(c, "boom"), "the member threw");
        assertNull(Members.get(null, "pending"));
        assertNull(Members.invoke(null, "open"));
    }

    @Test
    void aReaderResolvesOncePerClassItMeets() {
        Members.Reader pending = Members.fieldReader("pending");
        assertEquals(7, pending.read(new Child()));
        assertEquals(42L, pending.read(new Base()));
        assertNull(pending.read(new ArrayDeque<>()), "a class without the field");
        assertNull(pending.read(null));
        Members.Reader size = Members.methodReader("size");
        ArrayDeque<Object> q = new ArrayDeque<>();
        q.add(1);
        assertEquals(1, size.read(q), "a public method of a JDK class");
        assertNull(Members.methodReader("boom").read(new Child()));
    }
}

package io.highwater.base;

import java.lang.ref.WeakReference;

/** Map keys by object identity: a strong one for entries removed by their own owner, a weak one otherwise. */
public final class IdentityKey {

    private IdentityKey() {
    }

    /** A strong key (and the probe for look-ups in maps of {@link Weak} keys). */
    public static final class Strong {
        public final Object referent;

        public Strong(Object referent) {
            this.referent = referent;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(referent);
        }

        @Override
        public boolean equals(Object o) {
            if (o instanceof Strong) {
                return ((Strong) o).referent == referent;
            }
            return o instanceof Weak && ((Weak) o).get() == referent;
        }
    }

    /** A weak key: equal to a {@link Strong} or {@link Weak} key of the same referent while it lives. */
    public static final class Weak extends WeakReference<Object> {
        private final int hash;

        public Weak(Object referent) {
            super(referent);
            this.hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            Object mine = get();
            if (mine == null) {
                return false;
            }
            if (o instanceof Strong) {
                return ((Strong) o).referent == mine;
            }
            return o instanceof Weak && ((Weak) o).get() == mine;
        }
    }
}

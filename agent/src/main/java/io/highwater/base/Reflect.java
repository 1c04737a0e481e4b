package io.highwater.base;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;

/**
 * Method handles onto library classes, which the agent's class loader cannot link against: each look-up answers
 * null when the class or member is not there, so a library of another shape only loses what it lacks.
 */
public final class Reflect {

    private Reflect() {
    }

    public static MethodHandle method(MethodHandles.Lookup lookup, Class<?> type, String name, MethodType mt) {
        if (type == null) {
            return null;
        }
        try {
            return lookup.findVirtual(type, name, mt);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** A getter of field {@code name} declared by {@code type} or the nearest superclass that declares it. */
    public static MethodHandle getter(Class<?> type, String name) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                // containers live in unnamed modules, open to the agent's unnamed module
                f.setAccessible(true);
                return MethodHandles.lookup().unreflectGetter(f);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
        return null;
    }

    public static Class<?> load(String name, ClassLoader loader) {
        try {
            return Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }
}

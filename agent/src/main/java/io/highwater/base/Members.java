package io.highwater.base;

import java.lang.reflect.AccessibleObject;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a library's members by name, reflectively, for slow paths and collection time: fields and no-argument
 * methods declared in an object's class or a superclass, whatever their access (the libraries the agent reads live
 * in unnamed or automatic modules, open to it), resolved once per class. Every read answers null instead of throwing.
 */
public final class Members {

    /** Members by class and name; absent when the class has none. */
    private static final ClassValue<Map<String, Optional<AccessibleObject>>> MEMBERS =
            new ClassValue<Map<String, Optional<AccessibleObject>>>() {
                @Override
                protected Map<String, Optional<AccessibleObject>> computeValue(Class<?> type) {
                    return new ConcurrentHashMap<>();
                }
            };

    private Members() {
    }

    /** Field {@code name} of {@code o}, or null. */
    public static Object get(Object o, String name) {
        if (o == null) {
            return null;
        }
        Field f = field(o.getClass(), name);
        return f == null ? null : read(f, o);
    }

    /** {@code o.name()}, or null. */
    public static Object invoke(Object o, String name) {
        if (o == null) {
            return null;
        }
        Method m = (Method) member(o.getClass(), name, true);
        try {
            return m == null ? null : m.invoke(o);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** {@code type}'s field {@code name} (its own or a superclass's), accessible; null when there is none. */
    public static Field field(Class<?> type, String name) {
        return (Field) member(type, name, false);
    }

    public static Object read(Field f, Object o) {
        try {
            return f.get(o);
        } catch (RuntimeException | IllegalAccessException e) {
            return null;
        }
    }

    /** Whether {@code c} is, or extends, the class named {@code name}. */
    public static boolean isA(Class<?> c, String name) {
        for (; c != null; c = c.getSuperclass()) {
            if (c.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static AccessibleObject member(Class<?> type, String name, boolean method) {
        String key = method ? name + "()" : name;
        return MEMBERS.get(type).computeIfAbsent(key, k -> Optional.ofNullable(find(type, name, method))).orElse(null);
    }

    private static AccessibleObject find(Class<?> type, String name, boolean method) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                AccessibleObject m = method ? c.getDeclaredMethod(name) : c.getDeclaredField(name);
                m.setAccessible(true);
                return m;
            } catch (NoSuchMethodException | NoSuchFieldException e) {
                // up
            } catch (RuntimeException e) {
                // not open to the agent (a named module): not readable
                return null;
            }
        }
        return null;
    }
}

package io.highwater.base;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.AccessibleObject;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a library's members by name, reflectively, for slow paths and collection time: fields and no-argument
 * methods declared in an object's class or a superclass, whatever their access (the libraries the agent reads live
 * in unnamed or automatic modules, open to it), resolved once per class and name into a method handle. Every read
 * answers null instead of throwing.
 *
 * <p>Some slow paths run thousands of times a second (an HTTP/2 stream channel's writability flips at every flush
 * of a fast stream): a read is a class-value look-up, a map hit on the literal name and one handle call, with
 * nothing allocated but the boxed result (BENCHMARKS.md, h2c streaming).
 */
public final class Members {

    /** A read of {@code Object -> Object} for a name a class does not have. */
    private static final Optional<MethodHandle> NONE = Optional.empty();
    private static final MethodType READ = MethodType.methodType(Object.class, Object.class);

    /** Field getters by class and name; empty when the class has none. */
    private static final ClassValue<Map<String, Optional<MethodHandle>>> GETTERS = byClass();
    /** No-argument methods by class and name; empty when the class has none. */
    private static final ClassValue<Map<String, Optional<MethodHandle>>> METHODS = byClass();

    private Members() {
    }

    private static ClassValue<Map<String, Optional<MethodHandle>>> byClass() {
        return new ClassValue<Map<String, Optional<MethodHandle>>>() {
            @Override
            protected Map<String, Optional<MethodHandle>> computeValue(Class<?> type) {
                return new ConcurrentHashMap<>();
            }
        };
    }

    /** Field {@code name} of {@code o}, or null. */
    public static Object get(Object o, String name) {
        return o == null ? null : read(handle(GETTERS, o.getClass(), name, false), o);
    }

    /** {@code o.name()}, or null. */
    public static Object invoke(Object o, String name) {
        return o == null ? null : read(handle(METHODS, o.getClass(), name, true), o);
    }

    public static Object read(Field f, Object o) {
        try {
            return f.get(o);
        } catch (RuntimeException | IllegalAccessException e) {
            return null;
        }
    }

    /** A reader of field {@code name}, resolved once per class it reads from. */
    public static Reader fieldReader(String name) {
        return new Reader(name, false);
    }

    /** A reader of no-argument method {@code name}, resolved once per class it reads from. */
    public static Reader methodReader(String name) {
        return new Reader(name, true);
    }

    /**
     * One member by name, as {@link #get} and {@link #invoke} read it, for slow paths that run at the rate of a
     * library's events: the look-up is one class value, with no map and no name in between.
     */
    public static final class Reader {
        private final ClassValue<Optional<MethodHandle>> byClass;

        private Reader(String name, boolean method) {
            byClass = new ClassValue<Optional<MethodHandle>>() {
                @Override
                protected Optional<MethodHandle> computeValue(Class<?> type) {
                    return resolve(type, name, method);
                }
            };
        }

        /** The member's value on {@code o}, or null (no such member, null {@code o}, or it threw). */
        public Object read(Object o) {
            return o == null ? null : Members.read(byClass.get(o.getClass()).orElse(null), o);
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

    private static Object read(MethodHandle h, Object o) {
        if (h == null) {
            return null;
        }
        try {
            return h.invokeExact(o);
        } catch (Throwable t) {
            // whatever the library's method throws: no value, as for a member that is not there
            return null;
        }
    }

    private static MethodHandle handle(ClassValue<Map<String, Optional<MethodHandle>>> cache, Class<?> type,
                                       String name, boolean method) {
        Map<String, Optional<MethodHandle>> byName = cache.get(type);
        Optional<MethodHandle> h = byName.get(name);
        if (h == null) {
            h = byName.computeIfAbsent(name, k -> resolve(type, k, method));
        }
        return h.orElse(null);
    }

    private static Optional<MethodHandle> resolve(Class<?> type, String name, boolean method) {
        AccessibleObject m = find(type, name, method);
        if (m == null) {
            return NONE;
        }
        try {
            // accessible already: the handle is not checked against this class's access
            MethodHandle h = method ? MethodHandles.lookup().unreflect((Method) m)
                    : MethodHandles.lookup().unreflectGetter((Field) m);
            if (Modifier.isStatic(((Member) m).getModifiers())) {
                h = MethodHandles.dropArguments(h, 0, Object.class);
            }
            return Optional.of(h.asType(READ));
        } catch (IllegalAccessException | RuntimeException e) {
            return NONE;
        }
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

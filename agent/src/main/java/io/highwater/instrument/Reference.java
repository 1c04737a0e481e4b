package io.highwater.instrument;

import io.highwater.base.Reflect;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDefinition;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A class, field or method of a library that an integration reads through reflection, as OpenTelemetry's muzzle
 * checks them: declared once, {@linkplain #missing checked} against the library's class files when its classes load
 * (before any advice is applied, from a type pool, so nothing is loaded or initialised early), and
 * {@linkplain #resolve resolved} into a method handle by the same declaration later. An integration part whose
 * references are not all there is skipped as a whole, with one line saying which ones are missing, instead of
 * reading nulls on its slow paths.
 *
 * <p>Type names are binary names ({@code java.nio.ByteBuffer}, {@code org.a.Outer$Inner}, {@code boolean}); a field
 * or method is looked up in the owner and its superclasses (and, for a method, its interfaces).
 */
public final class Reference {

    private enum Kind { CLASS, FIELD, METHOD }

    private final Kind kind;
    private final String owner;
    private final String name;
    /** A field's type, a method's return type, or null: any. */
    private final String type;
    private final List<String> parameters;

    private Reference(Kind kind, String owner, String name, String type, List<String> parameters) {
        this.kind = kind;
        this.owner = owner;
        this.name = name;
        this.type = type;
        this.parameters = parameters;
    }

    public static Reference type(String owner) {
        return new Reference(Kind.CLASS, owner, null, null, List.of());
    }

    /** Field {@code name} of {@code owner} or a superclass, of type {@code type} (null: any). */
    public static Reference field(String owner, String name, String type) {
        return new Reference(Kind.FIELD, owner, name, type, List.of());
    }

    /**
     * Public method {@code name(parameters)} of public class {@code owner}, its superclasses or interfaces, returning
     * {@code type}: resolved with the public look-up.
     */
    public static Reference method(String owner, String type, String name, String... parameters) {
        return new Reference(Kind.METHOD, owner, name, type, Arrays.asList(parameters));
    }

    public String owner() {
        return owner;
    }

    /** The references of {@code all} that {@code loader}'s class files lack, as text for a log line; empty: none. */
    public static List<String> missing(ClassLoader loader, Collection<Reference> all) {
        TypePool pool = TypePool.Default.of(loader == null ? ClassFileLocator.ForClassLoader.ofBootLoader()
                : ClassFileLocator.ForClassLoader.of(loader));
        List<String> out = new ArrayList<>();
        for (Reference r : all) {
            if (!r.presentIn(pool)) {
                out.add(r.toString());
            }
        }
        return out;
    }

    boolean presentIn(TypePool pool) {
        try {
            TypePool.Resolution resolution = pool.describe(owner);
            if (!resolution.isResolved()) {
                return false;
            }
            TypeDescription t = resolution.resolve();
            switch (kind) {
                case CLASS:
                    return true;
                case FIELD:
                    return hasField(t);
                default:
                    return hasMethod(t);
            }
        } catch (RuntimeException | LinkageError e) {
            // a super type that cannot be described: as good as missing
            return false;
        }
    }

    private boolean hasField(TypeDescription t) {
        for (TypeDefinition c = t; c != null; c = c.getSuperClass()) {
            for (FieldDescription.InDefinedShape f : c.asErasure().getDeclaredFields()) {
                if (f.getName().equals(name) && (type == null || f.getType().asErasure().getName().equals(type))) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean hasMethod(TypeDefinition t) {
        if (t == null) {
            return false;
        }
        for (MethodDescription.InDefinedShape m : t.asErasure().getDeclaredMethods()) {
            if (m.getName().equals(name) && m.isPublic() && matches(m)) {
                return true;
            }
        }
        if (hasMethod(t.getSuperClass())) {
            return true;
        }
        for (TypeDefinition i : t.getInterfaces()) {
            if (hasMethod(i)) {
                return true;
            }
        }
        return false;
    }

    private boolean matches(MethodDescription.InDefinedShape m) {
        if (type != null && !m.getReturnType().asErasure().getName().equals(type)) {
            return false;
        }
        if (m.getParameters().size() != parameters.size()) {
            return false;
        }
        for (int i = 0; i < parameters.size(); i++) {
            if (!m.getParameters().get(i).getType().asErasure().getName().equals(parameters.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** The class this reference names in {@code loader}, or null. */
    public Class<?> load(ClassLoader loader) {
        return Reflect.load(owner, loader);
    }

    /**
     * The getter (field) or virtual method handle this reference names, in {@code loader}; null when it is not there
     * (a part whose {@link #missing} check failed is never installed, so a null here is a class loader that differs
     * from the checked one).
     */
    public MethodHandle resolve(ClassLoader loader) {
        Class<?> c = load(loader);
        if (c == null) {
            return null;
        }
        if (kind == Kind.FIELD) {
            return Reflect.getter(c, name);
        }
        if (kind == Kind.METHOD) {
            Class<?> returns = classOf(type, loader);
            Class<?>[] params = new Class<?>[parameters.size()];
            for (int i = 0; i < params.length; i++) {
                params[i] = classOf(parameters.get(i), loader);
                if (params[i] == null) {
                    return null;
                }
            }
            return returns == null ? null
                    : Reflect.method(MethodHandles.publicLookup(), c, name, MethodType.methodType(returns, params));
        }
        return null;
    }

    private static Class<?> classOf(String name, ClassLoader loader) {
        switch (name) {
            case "boolean":
                return boolean.class;
            case "int":
                return int.class;
            case "long":
                return long.class;
            case "void":
                return void.class;
            default:
                return Reflect.load(name, loader);
        }
    }

    @Override
    public String toString() {
        String simple = owner.substring(owner.lastIndexOf('.') + 1);
        switch (kind) {
            case CLASS:
                return "class " + owner;
            case FIELD:
                return "field " + simple + "." + name;
            default:
                return "method " + simple + "." + name + "(" + String.join(", ", shortNames(parameters)) + ")";
        }
    }

    private static List<String> shortNames(List<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            out.add(n.substring(n.lastIndexOf('.') + 1));
        }
        return out;
    }
}

package io.highwater.instrument;

import io.highwater.base.Log;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.VisibilityBridgeStrategy;
import net.bytebuddy.dynamic.scaffold.InstrumentedType;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies inlined advice to a few classes named up front. A class may be the target of several integrations (Tomcat's
 * socket wrapper is where a servlet's blocking write and a WebSocket {@code Basic} send both really wait): each
 * target is checked on its own, and the advice of those whose check passes is applied together. A class load costs
 * one map look-up on its name, and
 * Byte Buddy is touched only once a target class shows up, so the agent costs next to nothing at start-up and
 * in a JVM without the instrumented libraries. The advice adds no fields or methods, so the same transformation
 * is legal on a class that is already loaded (retransformation after an attach) and can be undone.
 */
public final class AdviceTransformer implements ClassFileTransformer {

    /** One class to instrument: which methods get which advice, and whether this copy of it may be touched. */
    public interface Target {
        /** Internal name, e.g. {@code io/netty/channel/ChannelOutboundBuffer}. */
        String internalName();

        /** Advice class names (in the agent's class loader) by the methods they apply to. */
        Map<ElementMatcher<? super MethodDescription>, String> advice();

        /**
         * Checks this version of the class before it is changed; returns null to go ahead, or why it is skipped.
         * Also the place to report what was instrumented.
         */
        String check(TypeDescription type, ClassLoader loader);

        /**
         * Advice (class names) that must run once per call into this class: a method it matches is left without it
         * when that method calls another method it matches (a convenience overload that delegates, say), so that a
         * call through both is judged once. Which methods delegate differs between versions of a library (Netty 4.1's
         * {@code write(Object)} calls {@code write(Object, ChannelPromise)}, 4.2's does not); the class file says.
         */
        default Set<String> oncePerCall() {
            return Collections.emptySet();
        }

        /**
         * The package, in internal form ({@code io/netty/}), of a library that others relocate into packages of
         * their own (grpc-netty-shaded, database drivers, fat jars). A class of the same name under any prefix is
         * then this target too, found by its name's shape, and the advice's references to the library's types are
         * remapped to that copy's. Null: only the class named {@link #internalName()}.
         */
        default String relocatable() {
            return null;
        }
    }

    /** A target as it applies to one class: the prefix of a relocated copy, or "" for the library itself. */
    static final class Match {
        final Target target;
        final String prefix;

        Match(Target target, String prefix) {
            this.target = target;
            this.prefix = prefix;
        }
    }

    private final Map<String, List<Target>> targets = new LinkedHashMap<>();
    private final List<Target> relocatable = new ArrayList<>();
    private final ClassLoader agentLoader;

    public AdviceTransformer(ClassLoader agentLoader, List<Target> targets) {
        this.agentLoader = agentLoader;
        for (Target t : targets) {
            this.targets.computeIfAbsent(t.internalName(), n -> new ArrayList<>()).add(t);
            if (t.relocatable() != null) {
                relocatable.add(t);
            }
        }
    }

    /** The targets of the class {@code internalName}, a relocated copy's included; empty when none. */
    List<Match> match(String internalName) {
        List<Target> exact = targets.get(internalName);
        List<Match> out = new ArrayList<>(1);
        if (exact != null) {
            for (Target t : exact) {
                out.add(new Match(t, ""));
            }
            return out;
        }
        for (Target t : relocatable) {
            String own = t.internalName();
            int cut = internalName.length() - own.length();
            if (cut > 0 && internalName.endsWith(own) && internalName.charAt(cut - 1) == '/') {
                out.add(new Match(t, internalName.substring(0, cut)));
            }
        }
        return out;
    }

    /** Registers this transformer and retransforms targets that were loaded before it. */
    public void install(Instrumentation inst) {
        inst.addTransformer(this, true);
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (!match(c.getName().replace('.', '/')).isEmpty() && inst.isModifiableClass(c)) {
                loaded.add(c);
            }
        }
        retransform(inst, loaded);
    }

    /**
     * Removes this transformer and puts the original bytecode back into every target that is loaded; returns the
     * names of the classes it restored.
     */
    public List<String> uninstall(Instrumentation inst) {
        inst.removeTransformer(this);
        List<Class<?>> loaded = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (!match(c.getName().replace('.', '/')).isEmpty()) {
                loaded.add(c);
                names.add(c.getName());
            }
        }
        retransform(inst, loaded);
        return names;
    }

    private static void retransform(Instrumentation inst, List<Class<?>> classes) {
        for (Class<?> c : classes) {
            try {
                inst.retransformClasses(c);
            } catch (UnmodifiableClassException | RuntimeException | LinkageError e) {
                Log.once("retransform:" + c.getName(), "could not retransform " + c.getName() + " (" + e + ")");
            }
        }
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        List<Match> matches = className == null ? List.of() : match(className);
        if (matches.isEmpty()) {
            return null;
        }
        String name = className.replace('/', '.');
        try {
            List<ClassFileLocator> sources = new ArrayList<>();
            sources.add(ClassFileLocator.Simple.of(name, classfileBuffer));
            for (Match match : matches) {
                if (!match.prefix.isEmpty()) {
                    // the advice, as compiled against the library's own types, is rewritten for this copy's
                    sources.add(new ClassFileLocator.Simple(Relocation.advice(agentLoader,
                            match.target.advice().values(), match.target.relocatable(), match.prefix)));
                }
            }
            sources.add(loader == null ? ClassFileLocator.ForClassLoader.ofBootLoader()
                    : ClassFileLocator.ForClassLoader.of(loader));
            sources.add(ClassFileLocator.ForClassLoader.of(agentLoader));
            ClassFileLocator locator = new ClassFileLocator.Compound(sources);
            TypePool pool = TypePool.Default.of(locator);
            TypeDescription type = pool.describe(name).resolve();
            AsmVisitorWrapper.ForDeclaredMethods visitor = new AsmVisitorWrapper.ForDeclaredMethods();
            boolean any = false;
            for (Match match : matches) {
                // one target's check failing leaves that target out, not the others of the same class
                if (match.target.check(type, loader) == null) {
                    visitor = visit(visitor, match.target, type, pool, locator, classfileBuffer);
                    any = true;
                }
            }
            if (!any) {
                return null;
            }
            return new ByteBuddy()
                    .with(TypeValidation.DISABLED)
                    .with(Implementation.Context.Disabled.Factory.INSTANCE)
                    .with(InstrumentedType.Factory.Default.FROZEN)
                    .with(VisibilityBridgeStrategy.Default.NEVER)
                    .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE)
                    .redefine(type, locator)
                    .visit(visitor)
                    .make()
                    .getBytes();
        } catch (Throwable t) {
            Log.once("transform:" + name, "could not instrument " + name + " (" + t + "); it stays as it was");
            return null;
        }
    }

    /** {@code target}'s advice added to {@code visitor}. */
    private static AsmVisitorWrapper.ForDeclaredMethods visit(AsmVisitorWrapper.ForDeclaredMethods visitor,
                                                              Target target, TypeDescription type, TypePool pool,
                                                              ClassFileLocator locator, byte[] classfileBuffer) {
        Map<String, Set<String>> calls = target.oncePerCall().isEmpty() ? null : SameClassCalls.read(classfileBuffer);
        // the outermost of all once-per-call methods together: a call judged by one advice is not judged again
        // by another's further in (Netty's write(Object) calls write(Object, ChannelPromise) in 4.1)
        ElementMatcher<? super MethodDescription> outer = null;
        if (calls != null) {
            List<ElementMatcher<? super MethodDescription>> once = new ArrayList<>();
            for (Map.Entry<ElementMatcher<? super MethodDescription>, String> e : target.advice().entrySet()) {
                if (target.oncePerCall().contains(e.getValue())) {
                    once.add(e.getKey());
                }
            }
            outer = SameClassCalls.outermost(type, m -> once.stream().anyMatch(o -> o.matches(m)), calls);
        }
        for (Map.Entry<ElementMatcher<? super MethodDescription>, String> e : target.advice().entrySet()) {
            ElementMatcher<? super MethodDescription> methods = e.getKey();
            if (outer != null && target.oncePerCall().contains(e.getValue())) {
                ElementMatcher<? super MethodDescription> own = methods;
                ElementMatcher<? super MethodDescription> outermost = outer;
                methods = m -> own.matches(m) && outermost.matches(m);
            }
            visitor = visitor.invokable(methods, Advice.to(pool.describe(e.getValue()).resolve(), locator));
        }
        return visitor;
    }

    /** The targets' class names; relocated copies are matched by shape and not listed. */
    public List<String> targetNames() {
        List<String> out = new ArrayList<>();
        for (String n : targets.keySet()) {
            out.add(n.replace('/', '.'));
        }
        return Collections.unmodifiableList(out);
    }
}

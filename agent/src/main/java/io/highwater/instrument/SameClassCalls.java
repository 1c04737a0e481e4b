package io.highwater.instrument;

import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.matcher.ElementMatchers;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Which methods of a class call which others of the same class, read from its class file. */
final class SameClassCalls {

    private SameClassCalls() {
    }

    /** Each method ({@code name + descriptor}) to the methods of the same class it invokes. */
    static Map<String, Set<String>> read(byte[] classFile) {
        Map<String, Set<String>> calls = new HashMap<>();
        ClassReader reader = new ClassReader(classFile);
        String owner = reader.getClassName();
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                Set<String> callees = new HashSet<>();
                calls.put(name + descriptor, callees);
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String calleeOwner, String calleeName,
                                                String calleeDescriptor, boolean isInterface) {
                        if (calleeOwner.equals(owner)) {
                            callees.add(calleeName + calleeDescriptor);
                        }
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        return calls;
    }

    /** {@code methods} of {@code type} less those that call another of them. */
    static ElementMatcher<? super MethodDescription> outermost(TypeDescription type,
                                                               ElementMatcher<? super MethodDescription> methods,
                                                               Map<String, Set<String>> calls) {
        Set<String> matched = new HashSet<>();
        for (MethodDescription.InDefinedShape m : type.getDeclaredMethods()) {
            if (methods.matches(m)) {
                matched.add(m.getInternalName() + m.getDescriptor());
            }
        }
        Set<String> delegating = new HashSet<>();
        for (String m : matched) {
            for (String callee : calls.getOrDefault(m, Set.of())) {
                if (!callee.equals(m) && matched.contains(callee)) {
                    delegating.add(m);
                }
            }
        }
        if (delegating.isEmpty()) {
            return methods;
        }
        ElementMatcher.Junction<MethodDescription> excluded = ElementMatchers.none();
        for (String m : delegating) {
            excluded = excluded.or(signature(m));
        }
        return ElementMatchers.<MethodDescription>not(excluded).and(methods);
    }

    private static ElementMatcher.Junction<MethodDescription> signature(String nameAndDescriptor) {
        int paren = nameAndDescriptor.indexOf('(');
        String name = nameAndDescriptor.substring(0, paren);
        String descriptor = nameAndDescriptor.substring(paren);
        return ElementMatchers.<MethodDescription>named(name).and(ElementMatchers.hasDescriptor(descriptor));
    }
}

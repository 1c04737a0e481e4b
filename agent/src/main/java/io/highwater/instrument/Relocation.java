package io.highwater.instrument;

import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.commons.ClassRemapper;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.commons.Remapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Advice for a relocated copy of a library: the advice's class file, compiled against the library's own types, with
 * every reference to a type of the library's package moved under the copy's prefix
 * ({@code io/netty/channel/Channel} becomes {@code io/grpc/netty/shaded/io/netty/channel/Channel}). Byte Buddy only
 * reads the advice's bytecode to inline it, so the rewritten class is never loaded.
 */
final class Relocation {

    private Relocation() {
    }

    /** The rewritten class files of {@code adviceClasses}, by class name. */
    static Map<String, byte[]> advice(ClassLoader agentLoader, Collection<String> adviceClasses, String libraryPackage,
                                      String prefix) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        Remapper remapper = new Remapper(Opcodes.ASM9) {
            @Override
            public String map(String internalName) {
                return internalName.startsWith(libraryPackage) ? prefix + internalName : internalName;
            }
        };
        for (String advice : adviceClasses) {
            byte[] original;
            try (InputStream in = agentLoader.getResourceAsStream(advice.replace('.', '/') + ".class")) {
                if (in == null) {
                    throw new IOException("no class file for " + advice);
                }
                original = in.readAllBytes();
            }
            ClassWriter writer = new ClassWriter(0);
            new ClassReader(original).accept(new ClassRemapper(writer, remapper), 0);
            out.put(advice, writer.toByteArray());
        }
        return out;
    }
}

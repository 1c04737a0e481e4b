package io.highwater.it.jar;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the constant pool of a class file: the classes it names and the methods it calls, enough to check what the
 * relocated code in the agent jar refers to without loading it.
 */
final class ClassFileRefs {

    /** A method reference: owner internal name, method name, descriptor. */
    record MethodRef(String owner, String name, String descriptor) {
    }

    final Set<String> classes = new HashSet<>();
    final List<MethodRef> methods = new ArrayList<>();

    static ClassFileRefs read(InputStream raw) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        Object[] pool = new Object[count];
        int[][] refs = new int[count][];
        byte[] tags = new byte[count];
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            tags[i] = (byte) tag;
            switch (tag) {
                case 1 -> pool[i] = in.readUTF();
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++;
                }
                case 7, 8, 16, 19, 20 -> refs[i] = new int[] {in.readUnsignedShort()};
                case 9, 10, 11, 12, 17, 18 -> refs[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
                case 15 -> refs[i] = new int[] {in.readUnsignedByte(), in.readUnsignedShort()};
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        ClassFileRefs out = new ClassFileRefs();
        for (int i = 1; i < count; i++) {
            if (tags[i] == 7) {
                out.classes.add((String) pool[refs[i][0]]);
            } else if (tags[i] == 10 || tags[i] == 11) {
                String owner = (String) pool[refs[refs[i][0]][0]];
                int[] nat = refs[refs[i][1]];
                out.methods.add(new MethodRef(owner, (String) pool[nat[0]], (String) pool[nat[1]]));
            }
        }
        return out;
    }
}

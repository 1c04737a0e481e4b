package io.highwater.agent;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little of a class file (JVMS 4) the tests look at, read straight from the bytes: each method's bytecode, and
 * the annotations and static fields it uses. Read by hand rather than through Byte Buddy, so that what is checked
 * does not depend on the library that wrote it.
 */
final class ClassFile {

    /** One method: {@code name + descriptor} is its key in {@link #methods}. */
    static final class MethodInfo {
        final List<String> annotations = new ArrayList<>();
        final List<String> staticFieldsRead = new ArrayList<>();
        int codeLength = -1;
    }

    final Map<String, MethodInfo> methods = new LinkedHashMap<>();

    private static final int GETSTATIC = 0xb2;

    private ClassFile() {
    }

    static ClassFile parse(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        in.skipBytes(8);
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] classNames = new int[count];
        int[][] fieldRefs = new int[count][];
        int[][] nameAndTypes = new int[count][];
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            if (tag == 1) {
                utf8[i] = in.readUTF();
            } else if (tag == 7) {
                classNames[i] = in.readUnsignedShort();
            } else if (tag == 9) {
                fieldRefs[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
            } else if (tag == 12) {
                nameAndTypes[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
            } else if (tag == 5 || tag == 6) {
                // longs and doubles take two entries
                in.skipBytes(8);
                i++;
            } else if (tag == 15) {
                in.skipBytes(3);
            } else {
                in.skipBytes(tag == 8 || tag == 16 || tag == 19 || tag == 20 ? 2 : 4);
            }
        }
        in.skipBytes(6);
        in.skipBytes(2 * in.readUnsignedShort());
        ClassFile file = new ClassFile();
        for (int kind = 0; kind < 2; kind++) {
            int members = in.readUnsignedShort();
            for (int m = 0; m < members; m++) {
                in.skipBytes(2);
                String name = utf8[in.readUnsignedShort()] + utf8[in.readUnsignedShort()];
                MethodInfo method = new MethodInfo();
                int attributes = in.readUnsignedShort();
                for (int a = 0; a < attributes; a++) {
                    String attribute = utf8[in.readUnsignedShort()];
                    byte[] body = in.readNBytes(in.readInt());
                    if (kind == 1 && attribute.equals("Code")) {
                        DataInputStream code = new DataInputStream(new ByteArrayInputStream(body));
                        code.skipBytes(4);
                        byte[] instructions = code.readNBytes(code.readInt());
                        method.codeLength = instructions.length;
                        // a getstatic's operand may also appear as data inside other instructions; only an operand
                        // that names a field reference counts, which leaves false matches negligible for the tests
                        for (int p = 0; p + 2 < instructions.length; p++) {
                            int index = ((instructions[p + 1] & 0xff) << 8) | (instructions[p + 2] & 0xff);
                            if ((instructions[p] & 0xff) == GETSTATIC && index < count && fieldRefs[index] != null) {
                                int[] ref = fieldRefs[index];
                                method.staticFieldsRead.add(utf8[classNames[ref[0]]] + "."
                                        + utf8[nameAndTypes[ref[1]][0]]);
                            }
                        }
                    } else if (kind == 1 && attribute.equals("RuntimeVisibleAnnotations")) {
                        DataInputStream annotations = new DataInputStream(new ByteArrayInputStream(body));
                        int n = annotations.readUnsignedShort();
                        for (int i = 0; i < n; i++) {
                            method.annotations.add(utf8[annotations.readUnsignedShort()]);
                            if (annotations.readUnsignedShort() != 0) {
                                // element values are not needed by any test: stop rather than misread the rest
                                break;
                            }
                        }
                    }
                }
                if (kind == 1) {
                    file.methods.put(name, method);
                }
            }
        }
        return file;
    }
}

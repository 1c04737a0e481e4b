package io.highwater.agent;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts the tiny {@code io.highwater.bootstrap} classes on the bootstrap class path, where every class loader
 * (java.base included) can see them. They are copied from the agent jar's {@code bootstrap/} folder into a
 * temporary jar once per JVM: bootstrap classes can never be unloaded, so a later attach finds them there and
 * only checks that their shape ({@code Bridge.ABI}) is the one it was built for.
 */
final class Bootstrap {

    static final int EXPECTED_ABI = 1;
    private static final String BRIDGE = "io.highwater.bootstrap.Bridge";
    private static final String FOLDER = "bootstrap/";

    private Bootstrap() {
    }

    static void ensure(Instrumentation inst, File agentJar) throws IOException {
        Class<?> bridge = loadedBridge();
        if (bridge == null) {
            inst.appendToBootstrapClassLoaderSearch(new JarFile(extract(agentJar)));
            bridge = loadedBridge();
            if (bridge == null) {
                throw new IllegalStateException("the bootstrap helpers did not become visible");
            }
        }
        int abi;
        try {
            abi = bridge.getField("ABI").getInt(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("unexpected bootstrap helpers in this JVM: " + e);
        }
        if (abi != EXPECTED_ABI) {
            throw new IllegalStateException("this JVM already holds highwater bootstrap helpers of ABI " + abi
                    + ", this agent needs " + EXPECTED_ABI + "; restart the JVM to use this agent version");
        }
    }

    private static Class<?> loadedBridge() {
        try {
            return Class.forName(BRIDGE, false, null);
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    private static File extract(File agentJar) throws IOException {
        File tmp = File.createTempFile("highwater-bootstrap-", ".jar");
        tmp.deleteOnExit();
        try (JarFile jar = new JarFile(agentJar);
             JarOutputStream out = new JarOutputStream(new FileOutputStream(tmp))) {
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                if (e.isDirectory() || !e.getName().startsWith(FOLDER)) {
                    continue;
                }
                out.putNextEntry(new JarEntry(e.getName().substring(FOLDER.length())));
                try (InputStream in = jar.getInputStream(e)) {
                    copy(in, out);
                }
                out.closeEntry();
            }
        }
        return tmp;
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
    }
}

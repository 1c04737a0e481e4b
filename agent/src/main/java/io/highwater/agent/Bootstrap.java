package io.highwater.agent;

import io.highwater.base.Log;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Defines the tiny bootstrap classes ({@code io.highwater.bootstrap.Bridge} and each integration's
 * {@code io.highwater.<integration>.bootstrap} hooks) in the bootstrap class loader, where every class loader
 * (java.base included) can see them, once per JVM: bootstrap classes can never be unloaded, so a later attach
 * finds them there and only checks that their shape is the one it was built for. One number,
 * {@code Bridge.ABI}, stands for the shape of them all: a change to any of them raises it.
 *
 * <p>They are defined directly (the JDK's internal {@code Unsafe.defineClass}, reached by exporting its package to
 * the agent's module only), not by appending a jar to the bootstrap class path: such an append makes the JVM give
 * up class-data sharing for every class outside the boot loader, which costs the application start-up time and
 * prints a warning. Appending a jar remains the fallback when that JDK-internal path is not there.
 */
final class Bootstrap {

    static final int EXPECTED_ABI = 17;
    private static final String BRIDGE = "io.highwater.bootstrap.Bridge";
    private static final String FOLDER = "bootstrap/";

    private Bootstrap() {
    }

    /**
     * Makes {@code classes} visible from the boot class loader: those a previous agent in this JVM left there are
     * kept, the others (all of them at a first start, an integration's added since at a later attach) are defined.
     */
    static void ensure(Instrumentation inst, File agentJar, List<String> classes) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String name : classes) {
            if (loaded(name) == null) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            Map<String, byte[]> bytes = read(agentJar, missing);
            try {
                defineInBootLoader(inst, bytes);
            } catch (Exception | LinkageError e) {
                Log.debug("defining the bootstrap helpers directly failed (" + e + "); appending a jar instead");
                inst.appendToBootstrapClassLoaderSearch(new JarFile(write(bytes)));
            }
            for (String name : missing) {
                if (loaded(name) == null) {
                    throw new IllegalStateException("the bootstrap helper " + name + " did not become visible");
                }
            }
        }
        Class<?> bridge = loaded(BRIDGE);
        if (bridge == null) {
            throw new IllegalStateException("the bootstrap bridge " + BRIDGE + " is not among " + classes);
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

    private static Class<?> loaded(String name) {
        try {
            return Class.forName(name, false, null);
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    /** The bootstrap helpers' class files, by class name. */
    private static Map<String, byte[]> read(File agentJar, List<String> names) throws IOException {
        Map<String, byte[]> classes = new LinkedHashMap<>();
        try (JarFile jar = new JarFile(agentJar)) {
            for (String name : names) {
                JarEntry e = jar.getJarEntry(FOLDER + name.replace('.', '/') + ".class");
                if (e == null) {
                    throw new IOException(agentJar + " lacks the bootstrap helper " + name);
                }
                try (InputStream in = jar.getInputStream(e)) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    copy(in, out);
                    classes.put(name, out.toByteArray());
                }
            }
        }
        return classes;
    }

    private static void defineInBootLoader(Instrumentation inst, Map<String, byte[]> classes) throws Exception {
        Module base = Object.class.getModule();
        inst.redefineModule(base, Collections.emptySet(),
                Collections.singletonMap("jdk.internal.misc", Collections.singleton(Bootstrap.class.getModule())),
                Collections.emptyMap(), Collections.emptySet(), Collections.emptyMap());
        Class<?> unsafeType = Class.forName("jdk.internal.misc.Unsafe");
        Object unsafe = unsafeType.getMethod("getUnsafe").invoke(null);
        Method define = unsafeType.getMethod("defineClass", String.class, byte[].class, int.class, int.class,
                ClassLoader.class, ProtectionDomain.class);
        // a class can only be defined once its supertypes are: repeat until every one went in
        Map<String, byte[]> remaining = new LinkedHashMap<>(classes);
        while (!remaining.isEmpty()) {
            int before = remaining.size();
            Throwable last = null;
            for (Iterator<Map.Entry<String, byte[]>> it = remaining.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, byte[]> c = it.next();
                try {
                    define.invoke(unsafe, c.getKey(), c.getValue(), 0, c.getValue().length, null, null);
                    it.remove();
                } catch (InvocationTargetException e) {
                    last = e.getCause();
                }
            }
            if (remaining.size() == before) {
                throw new IllegalStateException("could not define " + remaining.keySet() + ": " + last);
            }
        }
    }

    private static File write(Map<String, byte[]> classes) throws IOException {
        File tmp = File.createTempFile("highwater-bootstrap-", ".jar");
        tmp.deleteOnExit();
        try (JarOutputStream out = new JarOutputStream(new FileOutputStream(tmp))) {
            for (Map.Entry<String, byte[]> c : classes.entrySet()) {
                out.putNextEntry(new JarEntry(c.getKey().replace('.', '/') + ".class"));
                out.write(c.getValue());
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

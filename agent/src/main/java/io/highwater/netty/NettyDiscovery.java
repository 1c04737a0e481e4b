package io.highwater.netty;

import io.highwater.base.Log;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Finds, when the agent attaches to a running JVM, the Netty channels that already hold bytes beyond their high-water
 * mark. Attached late, the agent sees a channel only when something happens to it; a writer that has finished, behind
 * a client that stopped reading, leaves a full buffer that nothing may ever touch again, and that is exactly what a
 * user attaching to a bloated service needs to see.
 *
 * <p>Event loops are found through their threads: Netty runs each loop on a {@code FastThreadLocalThread} whose
 * thread-local map holds the loop ({@code ThreadExecutorMap}). Each loop is then asked to run a small task, on its own
 * thread, that walks from the loop to its channels through the loop's own objects (its selector's keys for NIO, its
 * registrations for epoll, io_uring or kqueue): a bounded search by type, not by field names, so that it holds across
 * Netty versions, transports and relocated copies. What it finds goes to {@link NettyAdapter#foundAtAttach}.
 */
public final class NettyDiscovery {

    private static final String FAST_THREAD = "io.netty.util.concurrent.FastThreadLocalThread";
    private static final String EXECUTOR = "io.netty.util.concurrent.EventExecutor";
    private static final String EXECUTOR_GROUP = "io.netty.util.concurrent.EventExecutorGroup";
    private static final String CHANNEL = "io.netty.channel.Channel";
    /** How far the search goes from a loop: NIO 4.2 is loop, handler, selector, key, registration, handle, channel. */
    private static final int MAX_DEPTH = 8;
    /** A bound on objects looked at per loop, whatever the graph looks like. */
    private static final int MAX_OBJECTS = 100_000;

    private final NettyAdapter adapter;

    NettyDiscovery(NettyAdapter adapter) {
        this.adapter = adapter;
    }

    /** Asks every event loop of every Netty copy to report its channels; returns how many loops were asked. */
    int start() {
        return forEachChannel("netty", channel -> {
            Object buffer = adapter.access().outboundBuffer(channel);
            if (buffer != null) {
                adapter.foundAtAttach(buffer, channel);
            }
        });
    }

    /**
     * Runs {@code visitor} for every channel of every live Netty event loop (of every copy), on that loop's own
     * thread, where the channel's pipeline and state may be read safely: the search of {@link #start()}, for another
     * integration's discovery at attach (the http2 one's). Returns how many loops were asked; the visits happen as the
     * loops run the task. {@code who} names the caller in the one log line a failure gives.
     */
    public static int forEachChannel(String who, Consumer<Object> visitor) {
        int loops = 0;
        for (Object loop : eventLoops()) {
            try {
                ((Executor) loop).execute(new Search(loop, who, visitor));
                loops++;
            } catch (RuntimeException shutDown) {
                // a loop that is shutting down has nothing left to find
            }
        }
        return loops;
    }

    /** The event loops whose threads are alive, found through the loops' thread-local maps. */
    static List<Object> eventLoops() {
        Map<Object, Boolean> found = new IdentityHashMap<>();
        for (Thread t : liveThreads()) {
            Class<?> fast = superclassNamed(t.getClass(), FAST_THREAD);
            if (fast == null) {
                continue;
            }
            String prefix = fast.getName().substring(0, fast.getName().length() - FAST_THREAD.length());
            try {
                Class<?> executor = Class.forName(prefix + EXECUTOR, false, fast.getClassLoader());
                Object map = read(fast.getDeclaredField("threadLocalMap"), t);
                Object variables = map == null ? null : read(field(map.getClass(), "indexedVariables"), map);
                if (variables instanceof Object[]) {
                    for (Object v : (Object[]) variables) {
                        if (executor.isInstance(v) && v instanceof Executor) {
                            found.put(v, Boolean.TRUE);
                        }
                    }
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                Log.once("netty-discovery:" + prefix, "netty" + (prefix.isEmpty() ? "" : " (" + prefix + "io.netty)")
                        + ": cannot look for channels already under pressure at attach (" + e
                        + "); they are seen at their next write or drain");
            }
        }
        return new ArrayList<>(found.keySet());
    }

    /** The search from one loop, on that loop's thread, where its collections may be read safely. */
    private static final class Search implements Runnable {
        private final Object loop;
        private final String who;
        private final Consumer<Object> visitor;

        Search(Object loop, String who, Consumer<Object> visitor) {
            this.loop = loop;
            this.who = who;
            this.visitor = visitor;
        }

        @Override
        public void run() {
            try {
                for (Object channel : channelsOf(loop)) {
                    visitor.accept(channel);
                }
            } catch (Throwable t) {
                // never into the host's event loop
                Log.once(who + "-discovery-search", who + ": looking for channels at attach failed (" + t + ")");
            }
        }
    }

    /**
     * Every channel reachable from {@code loop} through its own objects: Netty's objects (each of their fields), JDK
     * collections, maps, arrays, selectors and selection keys. Other loops, groups, channels' insides, threads and
     * anything else are not followed.
     */
    static List<Object> channelsOf(Object loop) {
        String prefix = prefixOf(loop.getClass());
        ClassLoader loader = loop.getClass().getClassLoader();
        Class<?> channelType;
        Class<?> executorType;
        Class<?> groupType;
        try {
            channelType = Class.forName(prefix + CHANNEL, false, loader);
            executorType = Class.forName(prefix + EXECUTOR, false, loader);
            groupType = Class.forName(prefix + EXECUTOR_GROUP, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return Collections.emptyList();
        }
        List<Object> channels = new ArrayList<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> queue = new ArrayDeque<>();
        queue.add(new Object[] {loop, 0});
        seen.add(loop);
        while (!queue.isEmpty() && seen.size() < MAX_OBJECTS) {
            Object[] next = queue.poll();
            Object o = next[0];
            int depth = (Integer) next[1];
            if (channelType.isInstance(o)) {
                channels.add(o);
                continue;
            }
            if (depth >= MAX_DEPTH || o != loop && (executorType.isInstance(o) || groupType.isInstance(o))) {
                continue;
            }
            for (Object child : children(o, prefix)) {
                if (child != null && seen.add(child)) {
                    queue.add(new Object[] {child, depth + 1});
                }
            }
        }
        return channels;
    }

    private static List<Object> children(Object o, String prefix) {
        List<Object> out = new ArrayList<>();
        if (o instanceof Selector) {
            Selector s = (Selector) o;
            if (s.isOpen()) {
                out.addAll(s.keys());
            }
        } else if (o instanceof SelectionKey) {
            out.add(((SelectionKey) o).attachment());
        } else if (o instanceof Map) {
            out.addAll(((Map<?, ?>) o).values());
        } else if (o instanceof Collection) {
            out.addAll((Collection<?>) o);
        } else if (o.getClass().isArray()) {
            if (!o.getClass().getComponentType().isPrimitive()) {
                for (int i = 0, n = Array.getLength(o); i < n; i++) {
                    out.add(Array.get(o, i));
                }
            }
        } else if (isNettyClass(o.getClass(), prefix)) {
            for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (!Modifier.isStatic(f.getModifiers()) && !f.getType().isPrimitive()) {
                        try {
                            out.add(read(f, o));
                        } catch (ReflectiveOperationException | RuntimeException e) {
                            // a field that cannot be read leads nowhere
                        }
                    }
                }
            }
        }
        return out;
    }

    /** A class of this Netty copy (its own package prefix), including its transports' classes. */
    private static boolean isNettyClass(Class<?> c, String prefix) {
        return c.getName().startsWith(prefix + "io.netty.");
    }

    private static String prefixOf(Class<?> nettyClass) {
        String name = nettyClass.getName();
        int at = name.indexOf("io.netty.");
        return at < 0 ? "" : name.substring(0, at);
    }

    private static Class<?> superclassNamed(Class<?> c, String suffix) {
        for (; c != null; c = c.getSuperclass()) {
            if (c.getName().endsWith(suffix)) {
                return c;
            }
        }
        return null;
    }

    private static Field field(Class<?> c, String name) throws NoSuchFieldException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                return k.getDeclaredField(name);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(name);
    }

    /** Netty lives in an unnamed module, open to the agent's unnamed module. */
    private static Object read(Field f, Object target) throws IllegalAccessException {
        f.setAccessible(true);
        return f.get(target);
    }

    private static List<Thread> liveThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[root.activeCount() + 16];
        int n = root.enumerate(threads, true);
        List<Thread> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(threads[i]);
        }
        return out;
    }
}

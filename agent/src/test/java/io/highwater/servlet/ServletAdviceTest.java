package io.highwater.servlet;

import io.highwater.core.TestLayers;

import io.highwater.servlet.bootstrap.ServletCalls;
import com.example.export.StreamExport;
import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.servlet.bootstrap.ServletHooks;
import io.highwater.core.CallSite;
import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.nio.channels.WritePendingException;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The servlet write advice, inlined by the agent's own transformer into {@link FakeContainerStream}, driven by
 * application code ({@link StreamExport}) against the real adapter: which writes count as ignored, how often, with
 * which call site, and that the container's throwable reaches the application unchanged, whatever the agent does.
 */
class ServletAdviceTest {

    private static final String APPLICATION = StreamExport.class.getName() + ".writeRows";
    private static Class<?> stream;

    private final AtomicLong now = new AtomicLong(5_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped);
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get,
            30_000_000_000L);
    private ServletAdapter adapter;

    /** Defines the advised copy of the fake stream, in a class loader of its own beside the test's. */
    private static final class Definer extends ClassLoader {
        Definer(ClassLoader parent) {
            super(parent);
        }

        Class<?> define(String name, byte[] bytes) {
            return defineClass(name, bytes, 0, bytes.length);
        }
    }

    @BeforeAll
    static void adviseTheFakeStream() throws Exception {
        ClassLoader loader = ServletAdviceTest.class.getClassLoader();
        String name = FakeContainerStream.class.getName();
        String internalName = name.replace('.', '/');
        byte[] original;
        try (InputStream in = loader.getResourceAsStream(internalName + ".class")) {
            original = in.readAllBytes();
        }
        InstrumentationReport report = new InstrumentationReport();
        AdviceTransformer.Target target = ServletInstrumentation.streamTarget(new ServletInstrumentation.Stream(
                "fake", name, true, true, null), report);
        byte[] advised = new AdviceTransformer(loader, List.of(target)).transform(loader, internalName, null, null,
                original);
        assertThat(advised).as("advised " + name).isNotNull();
        assertThat(report.skipped()).isEmpty();
        stream = new Definer(loader).define(name, advised);
    }

    @BeforeEach
    void setUp() {
        ServletCalls.notReadyStreams.set(0);
        ServletCalls.blockedThreads.set(0);
        adapter = new ServletAdapter(monitor);
        ServletCalls.hooks = adapter;
    }

    @AfterEach
    void tearDown() {
        ServletCalls.hooks = ServletHooks.NOOP;
        adapter.reset();
    }

    private static OutputStream stream(String script, boolean async) throws ReflectiveOperationException {
        Object s = stream.getConstructor().newInstance();
        stream.getField("script").set(s, script);
        stream.getField("listener").set(s, async ? new Object() : null);
        return (OutputStream) s;
    }

    private static boolean isReady(OutputStream s, boolean answer) throws ReflectiveOperationException {
        stream.getField("ready").set(s, answer);
        return (boolean) stream.getMethod("isReady").invoke(s);
    }

    private long ignoredWrites() {
        return monitor.callSites().all().stream().mapToLong(CallSite::writes).sum();
    }

    private List<String> sites() {
        return monitor.callSites().all().stream().filter(c -> c.writes() > 0).map(CallSite::function).collect(Collectors.toList());
    }

    @Test
    void eachWriteTheContainerRefusesIsOneIgnoredWriteOfTheApplicationWhetherOrNotItAskedIsReady() throws Exception {
        OutputStream s = stream("aarpra", true);
        assertThat(StreamExport.writeRows(s, 6, 100)).as("accepted, refused, failed").containsExactly(3, 3, 0);
        assertThat(ignoredWrites()).isEqualTo(3);
        assertThat(monitor.ignoredBytes(TestLayers.OUTPUT_NOT_READY)).isEqualTo(300);
        assertThat(sites()).containsExactly(APPLICATION);
        assertThat(registry.get(s)).as("the connection is tracked").isNotNull();
        // the application never saw a stop signal, and never will see the go signal: no wait
        assertThat(registry.get(s).isWaiting()).isFalse();
        assertThat(ServletCalls.notReadyStreams.get()).isZero();
    }

    @Test
    void aWriteAfterIsReadySaidFalseIsCountedOnceWhetherTheContainerRefusesItOrNot() throws Exception {
        OutputStream s = stream("ra", true);
        assertThat(isReady(s, false)).isFalse();
        assertThat(StreamExport.writeRows(s, 2, 10)).containsExactly(1, 1, 0);
        assertThat(ignoredWrites()).isEqualTo(2);
        assertThat(monitor.ignoredBytes(TestLayers.OUTPUT_NOT_READY)).isEqualTo(20);
        assertThat(sites()).containsExactly(APPLICATION);
        assertThat(registry.get(s).isWaiting()).isTrue();

        assertThat(isReady(s, true)).isTrue();
        assertThat(StreamExport.writeRows(s, 1, 10)).containsExactly(1, 0, 0);
        assertThat(ignoredWrites()).isEqualTo(2);
    }

    @Test
    void aWriteThatFailsBecauseTheClientWentAwayIsNotIgnored() throws Exception {
        OutputStream s = stream("ff", true);
        assertThat(StreamExport.writeRows(s, 2, 10)).containsExactly(0, 0, 2);
        assertThat(ignoredWrites()).isZero();
        assertThat(registry.get(s)).isNull();
    }

    @Test
    void aBlockingStreamThatThrowsIllegalStateIsNotAsyncOutputNotReady() throws Exception {
        OutputStream s = stream("r", false);
        assertThat(StreamExport.writeRows(s, 1, 10)).containsExactly(0, 1, 0);
        assertThat(ignoredWrites()).isZero();
    }

    @Test
    void writesOfOneByteAndOfABufferAreJudgedAsArraysAreAndTheContainersThrowableReachesTheApplication()
            throws Exception {
        OutputStream s = stream("rp", true);
        Throwable oneByte = StreamExport.writeByte(s);
        assertThat(oneByte).isExactlyInstanceOf(IllegalStateException.class).hasMessage("not ready");
        assertThat(StreamExport.writeBuffer(s, 64)).isExactlyInstanceOf(WritePendingException.class);
        assertThat(ignoredWrites()).isEqualTo(2);
        assertThat(monitor.ignoredBytes(TestLayers.OUTPUT_NOT_READY)).isEqualTo(65);
    }

    @Test
    void anAgentThatThrowsNeverChangesWhatTheWriteDoes() throws Exception {
        ServletCalls.hooks = (ServletHooks) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServletHooks.class}, (proxy, method, args) -> {
                    throw new IllegalStateException("the agent's own failure");
                });
        ServletCalls.notReadyStreams.set(1);
        OutputStream s = stream("rfa", true);
        assertThat(StreamExport.writeByte(s)).hasMessage("not ready");
        assertThat(StreamExport.writeByte(s)).hasMessage("client gone");
        assertThat(StreamExport.writeByte(s)).isNull();
        assertThat(isReady(s, false)).isFalse();
    }

    private static long bytesGiven(OutputStream s) throws ReflectiveOperationException {
        return (long) stream.getField("bytesGiven").get(s);
    }

    /**
     * The guard's {@code fail}: once the connection is refused, every write of its stream is emptied (the container
     * is handed nothing of it) and throws the guard's {@code IOException} with the container's own throwable, if
     * any, as its cause; a write of another stream is untouched; a recycled stream (the container's next response)
     * writes again, and the gate closes.
     */
    @Test
    void writesOfARefusedConnectionAreEmptiedAndThrowTheGuardsIOException() throws Exception {
        OutputStream s = stream("a" + "r" + "aaaa", true);
        OutputStream other = stream("", true);
        ServletAccess access = (ServletAccess) registryProbeOf(s);
        assertThat(access.refuse(s, "highwater guard: write refused (test)")).isTrue();
        assertThat(ServletCalls.notReadyStreams.get()).as("the gate is open").isEqualTo(1);

        assertThat(StreamExport.writeRows(s, 1, 100)).as("accepted, refused, failed").containsExactly(0, 0, 1);
        assertThat(StreamExport.writeRows(s, 1, 100)).as("the container threw; the guard's exception instead")
                .containsExactly(0, 0, 1);
        Throwable oneByte = StreamExport.writeByte(s);
        assertThat(oneByte).isExactlyInstanceOf(java.io.IOException.class)
                .hasMessage("highwater guard: write refused (test)");
        assertThat(StreamExport.writeBuffer(s, 64)).isExactlyInstanceOf(java.io.IOException.class)
                .hasMessage("highwater guard: write refused (test)");
        // the byte write cannot be emptied: its one byte went through
        assertThat(bytesGiven(s)).as("bytes handed to the container").isEqualTo(1);
        assertThat(ignoredWrites()).as("a refused write is not an ignored write").isZero();

        assertThat(StreamExport.writeRows(other, 2, 100)).containsExactly(2, 0, 0);
        assertThat(bytesGiven(other)).isEqualTo(200);

        stream.getMethod("flush").invoke(s);
        adapter.recycled(s);
        assertThat(ServletCalls.notReadyStreams.get()).as("the gate is closed").isZero();
        assertThat(StreamExport.writeRows(s, 1, 100)).containsExactly(1, 0, 0);
    }

    @Test
    void theContainersThrowableIsTheCauseOfTheGuardsException() throws Exception {
        OutputStream s = stream("r", true);
        ((ServletAccess) registryProbeOf(s)).refuse(s, "highwater guard: refused");
        Throwable t = StreamExport.writeByte(s);
        assertThat(t).isExactlyInstanceOf(java.io.IOException.class).hasMessage("highwater guard: refused");
        assertThat(t.getCause()).isExactlyInstanceOf(IllegalStateException.class).hasMessage("not ready");
    }

    /** The adapter's probe, as the guard reaches it through the tracked connection. */
    private Object registryProbeOf(OutputStream s) throws ReflectiveOperationException {
        java.lang.reflect.Field f = ServletAdapter.class.getDeclaredField("access");
        f.setAccessible(true);
        return f.get(adapter);
    }
}

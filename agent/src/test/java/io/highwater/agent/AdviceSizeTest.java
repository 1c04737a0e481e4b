package io.highwater.agent;

import io.highwater.instrument.InstrumentationReport;
import io.highwater.instrument.AdviceTransformer;
import io.highwater.http2.Http2Instrumentation;
import io.highwater.netty.NettyInstrumentation;
import io.highwater.servlet.FakeContainerStream;
import io.highwater.servlet.ServletInstrumentation;
import io.highwater.socket.SocketInstrumentation;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the advice adds to the hot methods it is inlined into. C2 decides what to inline by bytecode size: a method
 * up to 35 bytes always ({@code MaxInlineSize}), a hot one up to 325 ({@code FreqInlineSize}). Advice that grows a
 * host method across one of these changes how the host's hottest code is compiled, which no per-call benchmark of
 * the advice shows (docs/benchmark-journal.md, "Streaming"). The real classes are transformed by the real transformer here.
 */
class AdviceSizeTest {

    private static final int MAX_INLINE_SIZE = 35;
    private static final int FREQ_INLINE_SIZE = 325;

    @Test
    void nettyAdviceAddsAFewBytesToTheWritePath() throws IOException {
        Map<String, Integer>[] sizes = transform(NettyInstrumentation.target(new InstrumentationReport()),
                "io/netty/channel/ChannelOutboundBuffer", getClass().getClassLoader());
        Map<String, Integer> before = sizes[0];
        Map<String, Integer> after = sizes[1];
        // every socket write of the NIO and epoll transports
        assertThat(after.get("removeBytes(J)V") - before.get("removeBytes(J)V")).isLessThanOrEqualTo(20);
        // the hottest of them is no longer touched at all: writes are judged where they enter the pipeline
        for (String untouched : List.of("addMessage(Ljava/lang/Object;ILio/netty/channel/ChannelPromise;)V",
                "incrementPendingOutboundBytes(J)V")) {
            assertThat(after.get(untouched)).as(untouched).isEqualTo(before.get(untouched));
        }
    }

    @Test
    void pipelineWriteAdviceKeepsTheEntryMethodsInlineableAndJudgesADelegatingCallOnce() throws IOException {
        Map<String, Integer>[] sizes = transform(NettyInstrumentation.pipelineTarget(new InstrumentationReport()),
                "io/netty/channel/AbstractChannelHandlerContext", getClass().getClassLoader());
        String promise = "Lio/netty/channel/ChannelPromise;)Lio/netty/channel/ChannelFuture;";
        for (String entry : List.of("write(Ljava/lang/Object;" + promise, "writeAndFlush(Ljava/lang/Object;" + promise)) {
            // every write of every handler passes here: it must stay small enough to be inlined without a profile
            assertThat(sizes[1].get(entry)).as(entry).isGreaterThan(sizes[0].get(entry))
                    .isLessThanOrEqualTo(MAX_INLINE_SIZE);
        }
        // Netty 4.1's write(Object) calls write(Object, ChannelPromise): advising both would judge one write twice
        String delegating = "write(Ljava/lang/Object;)Lio/netty/channel/ChannelFuture;";
        assertThat(sizes[1].get(delegating)).as(delegating).isEqualTo(sizes[0].get(delegating));
    }

    @Test
    void flowControllerEnqueueGrowsByACompareAndACall() throws IOException {
        String flowState = "io/netty/handler/codec/http2/DefaultHttp2RemoteFlowController$FlowState";
        Map<String, Integer>[] sizes = null;
        for (AdviceTransformer.Target t : Http2Instrumentation.targets(new InstrumentationReport())) {
            if (t.internalName().equals(flowState)) {
                sizes = transform(t, flowState, getClass().getClassLoader());
            }
        }
        assertThat(sizes).isNotNull();
        // every DATA frame of every HTTP/2 writer: a field read, a compare with a constant, the slow path's call
        String enqueue = "enqueueFrame(Lio/netty/handler/codec/http2/Http2RemoteFlowController$FlowControlled;)V";
        assertThat(sizes[1].get(enqueue) - sizes[0].get(enqueue)).as(enqueue).isPositive().isLessThanOrEqualTo(30);
        assertThat(sizes[1].get(enqueue)).as(enqueue).isLessThanOrEqualTo(FREQ_INLINE_SIZE);
        // the distribution loop and the window updates are left alone
        for (String untouched : List.of("writeAllocatedBytes(I)I", "incrementStreamWindow(I)I")) {
            assertThat(sizes[1].get(untouched)).as(untouched).isEqualTo(sizes[0].get(untouched));
        }
    }

    @Test
    void socketChannelWritesStayInlineable() throws IOException {
        Map<String, Integer>[] sizes = null;
        for (AdviceTransformer.Target t : SocketInstrumentation.targets(new InstrumentationReport())) {
            if (t.internalName().equals("sun/nio/ch/SocketChannelImpl")) {
                sizes = transform(t, t.internalName(), null);
            }
        }
        assertThat(sizes).isNotNull();
        for (String write : List.of("write(Ljava/nio/ByteBuffer;)I", "write([Ljava/nio/ByteBuffer;II)J")) {
            int before = sizes[0].get(write);
            int after = sizes[1].get(write);
            // one call on entry, one on exit, and Byte Buddy's frame for an exit that also sees throwables
            assertThat(after - before).as(write).isLessThanOrEqualTo(100);
            if (before <= FREQ_INLINE_SIZE - 100) {
                assertThat(after).as(write).isLessThanOrEqualTo(FREQ_INLINE_SIZE);
            }
        }
    }

    /**
     * The servlet stream's write advice (every application write of every container passes it): entry reads the gate
     * counter and goes no further while it is 0, exit tests two locals (the write threw; the guard refused it). Before
     * the guard's {@code fail} (b009e76) it added 73, 62 and 77 bytes to these three writes of the fake stream; the
     * guard's refusal, all of it behind the same gate, adds 11 to the array write and 10 to the buffer write.
     */
    @Test
    void servletWriteAdviceStaysSmall() throws IOException {
        String name = FakeContainerStream.class.getName().replace('.', '/');
        Map<String, Integer>[] sizes = transform(ServletInstrumentation.streamTarget(new ServletInstrumentation.Stream(
                "fake", FakeContainerStream.class.getName(), true, true, null), new InstrumentationReport()), name,
                getClass().getClassLoader());
        for (String write : List.of("write([BII)V", "write(I)V", "write(Ljava/nio/ByteBuffer;)V")) {
            assertThat(sizes[1].get(write) - sizes[0].get(write)).as(write).isLessThanOrEqualTo(90);
        }
    }

    /** The bytecode size of every method of {@code internalName}, before and after {@code target}'s advice. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Map<String, Integer>[] transform(AdviceTransformer.Target target, String internalName,
                                                    ClassLoader loader) throws IOException {
        byte[] original;
        // a .class resource is never encapsulated, not even in java.base
        try (InputStream in = loader != null ? loader.getResourceAsStream(internalName + ".class")
                : Object.class.getResourceAsStream("/" + internalName + ".class")) {
            assertThat(in).as(internalName).isNotNull();
            original = in.readAllBytes();
        }
        AdviceTransformer transformer = new AdviceTransformer(AdviceSizeTest.class.getClassLoader(), List.of(target));
        byte[] changed = transformer.transform(loader, internalName, null, null, original);
        assertThat(changed).as("transformed " + internalName).isNotNull();
        return new Map[] {codeSizes(original), codeSizes(changed)};
    }

    /** Each method's {@code code_length} (JVMS 4.7.3). */
    private static Map<String, Integer> codeSizes(byte[] classFile) throws IOException {
        Map<String, Integer> sizes = new HashMap<>();
        ClassFile.parse(classFile).methods.forEach((name, m) -> sizes.put(name, m.codeLength));
        return sizes;
    }
}

package io.highwater.servlet.undertow;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;
import io.highwater.instrument.Reference;
import io.highwater.servlet.ContainerAccess;
import io.highwater.servlet.ContainerPart;
import io.highwater.servlet.ServletInstrumentation;
import io.highwater.servlet.WritesInProgress;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Undertow 2.2 ({@code javax}) and 2.3 ({@code jakarta}): its stream, {@code ServletOutputStreamImpl}, whose
 * {@code write(int)} delegates to {@code write(byte[], int, int)} and {@code write(ByteBuffer)} to
 * {@code write(ByteBuffer[])}, Undertow's own API, not advised; nothing to recycle (a stream per exchange, held
 * weakly). A blocking write waits where the stream hands bytes to the channel: {@code writeBufferBlocking(boolean)}
 * (its full buffer), and, for a write larger than the buffer, {@code writeBlocking(ByteBuffer[], int, int, int)}
 * (2.2.37 and 2.3) or, where that method is not there (2.2.28), {@code writeTooLargeForBuffer}, which calls XNIO's
 * {@code Channels.writeBlocking} inline.
 */
public final class UndertowPart implements ContainerPart {

    private static final String ADVICE = "io.highwater.servlet.undertow.advice.";

    /** The method shapes, built on first use (see {@link ServletInstrumentation.Shapes}). */
    static final class Shapes {
        static final ElementMatcher.Junction<MethodDescription> BUFFER_WRITE = named("writeBufferBlocking")
                .and(takesArguments(1)).and(takesArgument(0, boolean.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> ARRAY_WRITE = named("writeBlocking")
                .and(takesArguments(4)).and(takesArgument(0, ByteBuffer[].class)).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class)).and(takesArgument(3, int.class)).and(not(isAbstract()));
        static final ElementMatcher.Junction<MethodDescription> TOO_LARGE = named("writeTooLargeForBuffer")
                .and(takesArguments(4)).and(takesArgument(0, byte[].class)).and(takesArgument(1, int.class))
                .and(takesArgument(2, int.class)).and(takesArgument(3, ByteBuffer.class)).and(not(isAbstract()));
        /** {@code writeTooLargeForBuffer} only where there is no {@code writeBlocking} (which it calls) to time. */
        static final ElementMatcher.Junction<MethodDescription> TOO_LARGE_INLINE = TOO_LARGE.and(m ->
                m.getDeclaringType().asErasure().getDeclaredMethods().filter(ARRAY_WRITE).isEmpty());

        private Shapes() {
        }
    }

    @Override
    public String name() {
        return "undertow";
    }

    @Override
    public String tested() {
        return "undertow 2.2.28, 2.3.21";
    }

    @Override
    public ContainerAccess access(WritesInProgress writes) {
        return new UndertowAccess(writes);
    }

    @Override
    public List<AdviceTransformer.Target> targets(InstrumentationReport report) {
        ServletInstrumentation.Stream stream = new ServletInstrumentation.Stream("undertow", UndertowAccess.STREAM,
                false, true, null) {
            @Override
            protected void addAdvice(Map<ElementMatcher<? super MethodDescription>, String> advice) {
                advice.put(Shapes.BUFFER_WRITE, ADVICE + "UndertowBufferWriteAdvice");
                advice.put(Shapes.ARRAY_WRITE, ADVICE + "UndertowArrayWriteAdvice");
                advice.put(Shapes.TOO_LARGE_INLINE, ADVICE + "UndertowLargeWriteAdvice");
            }

            @Override
            protected List<Reference> references() {
                return UndertowAccess.ALL;
            }

            @Override
            protected String gap(TypeDescription type) {
                // the stream's own blocking hand-over: without it blocking writes would be invisible
                return type.getDeclaredMethods().filter(Shapes.BUFFER_WRITE).isEmpty()
                        ? "writeBufferBlocking(boolean)" : null;
            }

            @Override
            protected String describe(TypeDescription type, String label, InstrumentationReport report) {
                boolean array = !type.getDeclaredMethods().filter(Shapes.ARRAY_WRITE).isEmpty();
                boolean inline = !array && !type.getDeclaredMethods().filter(Shapes.TOO_LARGE).isEmpty();
                if (!array && !inline) {
                    report.skipped(label + ": ServletOutputStreamImpl lacks writeBlocking(ByteBuffer[], int, int, int)"
                            + " and writeTooLargeForBuffer(byte[], int, int, ByteBuffer); blocking writes larger than"
                            + " the stream's buffer are not timed");
                    return ", blocking writes: duration of the hand-over of a full buffer";
                }
                if (inline) {
                    // write(ByteBuffer[]) calls Channels.writeBlocking inline, with no method of its own to time
                    report.skipped(label + ": ServletOutputStreamImpl lacks writeBlocking(ByteBuffer[], int, int, int);"
                            + " blocking write(ByteBuffer) calls larger than the stream's buffer are not timed");
                    return ", blocking writes: duration of the hand-over (large byte[] writes: writeTooLargeForBuffer)";
                }
                return ", blocking writes: duration of the hand-over to the channel";
            }
        };
        return List.of(ServletInstrumentation.streamTarget(stream, report));
    }
}

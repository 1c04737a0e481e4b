package io.highwater.servlet.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined around a container stream's {@code write(byte[], int, int)}. On entry, a write on a stream whose
 * {@code isReady()} returned false is judged, before the body runs, so that it counts whether or not the container
 * then refuses it. On a throw, a write not judged on entry is reported with its throwable: the container refusing it
 * (Tomcat's, Jetty's and Undertow's {@code IllegalStateException}, Jetty's {@code WritePendingException}) makes it an
 * ignored write whether or not the application ever asked {@code isReady()}. The report happens here, inside the
 * write, so the exception reaches the application only after it was counted, and the application's frame is still
 * the caller. One application write is counted at most once: entry returns {@link ServletCalls#JUDGED} when it judged
 * the write.
 *
 * <p>The guard ({@code highwater.guard.action=fail}): a write on a connection the guard refused is emptied on entry
 * (its length set to 0, so the container writes nothing of it) and its exit throws the guard's {@code IOException}
 * in place of whatever the emptied write did.
 *
 * <p>Fast path: one read of the gate counter on entry, two tests of locals on return.
 */
public final class WriteArrayAdvice {

    private WriteArrayAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static int enter(@Advice.This Object stream, @Advice.Argument(value = 2, readOnly = false) int len) {
        if (ServletCalls.notReadyStreams.get() != 0) {
            int judged = ServletCalls.judge(stream, len);
            if (judged == ServletCalls.REFUSED) {
                len = 0;
            }
            return judged;
        }
        return len;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class, backupArguments = false)
    static void exit(@Advice.This Object stream, @Advice.Enter int unjudged,
                     @Advice.Thrown(readOnly = false) Throwable thrown) {
        if (thrown != null || unjudged == ServletCalls.REFUSED) {
            thrown = ServletCalls.writeEnds(stream, unjudged, thrown);
        }
    }
}

package io.highwater.servlet.tomcat.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end (return or throw) of Tomcat's {@code NioEndpoint$NioSocketWrapper.doWrite(boolean, ByteBuffer)}:
 * a blocking write that waited is over. One read of the blocked-threads counter otherwise.
 */
public final class TomcatWriteAdvice {

    private TomcatWriteAdvice() {
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object socket, @Advice.Argument(0) boolean block,
                     @Advice.Thrown Throwable thrown) {
        if (block && ServletCalls.blockedThreads.get() != 0) {
            ServletCalls.socketWriteReturned(socket, thrown != null);
        }
    }
}

package io.highwater.servlet.tomcat.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of Tomcat's {@code NioEndpoint$NioSocketWrapper.registerWriteInterest()}. A blocking write
 * that found the socket full sets {@code writeBlocking} and calls this right before it waits on its write lock:
 * the place where the thread really waits for the client to drain. Non-blocking (async) writes also register
 * write interest, with {@code writeBlocking} false; they are not a blocked thread.
 */
public final class TomcatWaitAdvice {

    private TomcatWaitAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object socket, @Advice.FieldValue("writeBlocking") boolean writeBlocking) {
        if (writeBlocking) {
            ServletCalls.socketWaitBegins(socket);
        }
    }
}

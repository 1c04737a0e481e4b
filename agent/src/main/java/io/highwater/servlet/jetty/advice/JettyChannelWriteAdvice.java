package io.highwater.servlet.jetty.advice;

import io.highwater.servlet.bootstrap.ServletCalls;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;

/**
 * Wraps Jetty's blocking channel write ({@code HttpOutput.channelWrite(ByteBuffer, boolean)}: hand a buffer to the
 * connection, then block on the write callback). It runs once per buffer handed to the connection (the aggregate
 * buffer when it fills, a large write, the last write), never per small application write.
 */
public final class JettyChannelWriteAdvice {

    private JettyChannelWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static long enter(@Advice.This Object stream, @Advice.Argument(0) ByteBuffer content) {
        return ServletCalls.blockingWriteBegins(stream, content == null ? 0 : content.remaining());
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This Object stream, @Advice.Enter long token, @Advice.Thrown Throwable thrown) {
        ServletCalls.blockingWriteEnds(stream, token, thrown != null);
    }
}

package io.highwater.socket.advice;

import io.highwater.socket.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Inlined into {@code SocketChannelImpl.write(ByteBuffer)}. A blocking channel's write is watched like a socket
 * stream's; a non-blocking channel's write is looked at after it returned, only when it left bytes behind or some
 * channel is waiting. Netty's NIO transport writes through here on every flush: the non-blocking path reads the
 * blocking flag before and the buffer's position after, nothing more. Each side is one call into
 * {@link SocketWrites}, to keep what the advice adds to the JDK's method small.
 */
public final class ChannelWriteAdvice {

    private ChannelWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.This SocketChannel channel, @Advice.Argument(0) ByteBuffer buffer) {
        return SocketWrites.channelWriteBegins(channel, buffer);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This SocketChannel channel, @Advice.Enter Object slot,
                     @Advice.Argument(0) ByteBuffer buffer, @Advice.Return int written,
                     @Advice.Thrown Throwable thrown) {
        SocketWrites.channelWriteEnds(channel, slot, buffer, written, thrown);
    }
}

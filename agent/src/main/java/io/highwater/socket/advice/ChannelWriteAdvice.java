package io.highwater.socket.advice;

import io.highwater.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Inlined into {@code SocketChannelImpl.write(ByteBuffer)}. A blocking channel's write is watched like a socket
 * stream's; a non-blocking channel's write is looked at after it returned, only when it was short or some channel
 * is waiting.
 */
public final class ChannelWriteAdvice {

    private ChannelWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.This SocketChannel channel, @Advice.Argument(0) ByteBuffer buffer,
                                   @Advice.Local("requested") long requested) {
        requested = buffer.remaining();
        return channel.isBlocking() ? SocketWrites.begin(channel, requested) : null;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This SocketChannel channel, @Advice.Enter Object slot,
                     @Advice.Local("requested") long requested, @Advice.Return int written,
                     @Advice.Thrown Throwable thrown) {
        if (slot != null) {
            SocketWrites.end(slot, thrown != null);
        } else if (thrown == null && requested > 0 && !channel.isBlocking()) {
            SocketWrites.nonBlocking(channel, requested, written);
        }
    }
}

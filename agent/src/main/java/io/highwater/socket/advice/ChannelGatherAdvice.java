package io.highwater.socket.advice;

import io.highwater.socket.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Inlined into {@code SocketChannelImpl.write(ByteBuffer[], int, int)}: as {@link ChannelWriteAdvice}, one call on
 * entry and one on exit ({@link SocketWrites#gatherEnds} says what is looked at).
 */
public final class ChannelGatherAdvice {

    private ChannelGatherAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.This SocketChannel channel, @Advice.Argument(0) ByteBuffer[] buffers,
                        @Advice.Argument(1) int offset, @Advice.Argument(2) int length) {
        return SocketWrites.gatherBegins(channel, buffers, offset, length);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This SocketChannel channel, @Advice.Enter Object slot,
                     @Advice.Argument(0) ByteBuffer[] buffers, @Advice.Argument(1) int offset,
                     @Advice.Argument(2) int length, @Advice.Return long written, @Advice.Thrown Throwable thrown) {
        SocketWrites.gatherEnds(channel, slot, buffers, offset, length, written, thrown);
    }
}

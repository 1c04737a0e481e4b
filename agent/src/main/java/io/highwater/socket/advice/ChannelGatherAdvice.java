package io.highwater.socket.advice;

import io.highwater.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Inlined into {@code SocketChannelImpl.write(ByteBuffer[], int, int)}: as {@link ChannelWriteAdvice}. A gathering
 * write fills its buffers in order, so it left bytes behind exactly when its last buffer has some: the buffers are
 * summed only then (and for a blocking channel, whose pending bytes are the whole call).
 */
public final class ChannelGatherAdvice {

    private ChannelGatherAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.This SocketChannel channel, @Advice.Argument(0) ByteBuffer[] buffers,
                        @Advice.Argument(1) int offset, @Advice.Argument(2) int length) {
        return channel.isBlocking() ? SocketWrites.begin(channel, SocketWrites.remaining(buffers, offset, length))
                : null;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This SocketChannel channel, @Advice.Enter Object slot,
                     @Advice.Argument(0) ByteBuffer[] buffers, @Advice.Argument(1) int offset,
                     @Advice.Argument(2) int length, @Advice.Return long written, @Advice.Thrown Throwable thrown) {
        if (slot != null) {
            SocketWrites.end(slot, thrown != null);
        } else if (thrown == null && length > 0
                && (buffers[offset + length - 1].hasRemaining() || SocketWrites.nioWaiting.get() != 0)
                && !channel.isBlocking()) {
            SocketWrites.nonBlocking(channel, written, SocketWrites.remaining(buffers, offset, length));
        }
    }
}

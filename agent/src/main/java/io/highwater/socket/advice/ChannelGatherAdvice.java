package io.highwater.socket.advice;

import io.highwater.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Inlined into {@code SocketChannelImpl.write(ByteBuffer[], int, int)}: as {@link ChannelWriteAdvice}. */
public final class ChannelGatherAdvice {

    private ChannelGatherAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static Object enter(@Advice.This SocketChannel channel, @Advice.Argument(0) ByteBuffer[] buffers,
                                   @Advice.Argument(1) int offset, @Advice.Argument(2) int length,
                                   @Advice.Local("requested") long requested) {
        long n = 0;
        for (int i = offset, end = offset + length; i < end; i++) {
            n += buffers[i].remaining();
        }
        requested = n;
        return channel.isBlocking() ? SocketWrites.begin(channel, n) : null;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(@Advice.This SocketChannel channel, @Advice.Enter Object slot,
                     @Advice.Local("requested") long requested, @Advice.Return long written,
                     @Advice.Thrown Throwable thrown) {
        if (slot != null) {
            SocketWrites.end(slot, thrown != null);
        } else if (thrown == null && requested > 0 && !channel.isBlocking()) {
            SocketWrites.nonBlocking(channel, requested, written);
        }
    }
}

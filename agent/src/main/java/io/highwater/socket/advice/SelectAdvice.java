package io.highwater.socket.advice;

import io.highwater.socket.bootstrap.SocketWrites;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of {@code SelectorImpl.processReadyEvents(int, SelectionKeyImpl, Consumer)}, once per ready key
 * of a select: a waiting non-blocking channel found writable is its go signal. One atomic read while no channel waits.
 */
public final class SelectAdvice {

    private SelectAdvice() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.Argument(1) Object key) {
        SocketWrites.keyReady(key);
    }
}

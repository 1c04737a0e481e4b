package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

import java.util.Queue;

/**
 * Inlined at the start of Jetty's {@code WebSocketFlusher.sendFrame(OutgoingEntry)}, where every frame a session
 * sends is queued, without bound, in {@code _entries}. A frame that finds earlier ones still queued is sent while the
 * session is backed up. Fast path: {@code _entries.isEmpty()}, read without Jetty's lock (a hint: a racy read of an
 * {@code ArrayDeque}'s indices never throws).
 */
public final class JettySendFrameAdvice {

    private JettySendFrameAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object flusher, @Advice.FieldValue("_entries") Queue<?> entries,
                      @Advice.Argument(0) Object entry) {
        if (!entries.isEmpty()) {
            WebSocketCalls.jettySendWhileQueued(flusher, entry);
        }
    }
}

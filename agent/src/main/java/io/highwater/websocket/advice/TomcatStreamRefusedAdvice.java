package io.highwater.websocket.advice;

import io.highwater.websocket.bootstrap.WebSocketCalls;
import net.bytebuddy.asm.Advice;

/**
 * As {@link TomcatSendRefusedAdvice}, for {@code getSendStream()} and {@code getSendWriter()}, which take no message:
 * the refused send's size is unknown (0 bytes).
 */
public final class TomcatStreamRefusedAdvice {

    private TomcatStreamRefusedAdvice() {
    }

    @Advice.OnMethodExit(onThrowable = IllegalStateException.class, suppress = Throwable.class)
    static void exit(@Advice.This Object endpoint, @Advice.Thrown Throwable thrown) {
        if (thrown != null) {
            WebSocketCalls.tomcatSendRefused(endpoint, null, thrown);
        }
    }
}

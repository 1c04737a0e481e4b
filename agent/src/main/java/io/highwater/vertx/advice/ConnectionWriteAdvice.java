package io.highwater.vertx.advice;

import io.highwater.vertx.bootstrap.VertxCalls;
import io.netty.channel.ChannelHandlerContext;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of Vert.x 4.5's {@code ConnectionBase.writeToChannel(Object, boolean, ChannelPromise)}, the
 * funnel of every connection-level write (its overloads delegate to it): 4.5 keeps no queue of its own, its
 * {@code writeQueueFull()} is the channel's writability, and this is where the application's call is judged once,
 * on its own thread. The same reads as Netty's pipeline advice.
 */
public final class ConnectionWriteAdvice {

    private ConnectionWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This Object connection, @Advice.FieldValue("chctx") ChannelHandlerContext chctx,
                      @Advice.Argument(0) Object message) {
        if (!chctx.channel().isWritable()) {
            VertxCalls.writeWhileUnwritable(connection, message);
        }
    }
}

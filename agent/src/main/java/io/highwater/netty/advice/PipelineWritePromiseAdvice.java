package io.highwater.netty.advice;

import io.highwater.netty.bootstrap.NettyCalls;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import net.bytebuddy.asm.Advice;

/**
 * {@link PipelineWriteAdvice} for {@code AbstractChannelHandlerContext.write(Object, ChannelPromise)} and
 * {@code writeAndFlush(Object, ChannelPromise)}, where the promise is at hand: a write the guard refuses
 * ({@code highwater.guard.*}, off by default) has had its promise failed and its message released by the agent, and is
 * skipped; the method then returns the promise, as it always does. With the guard off the call answers false and
 * nothing changes.
 *
 * <p>Fast path: the same {@code channel().isWritable()} as {@link PipelineWriteAdvice}; what the skip adds is a local
 * and a test of it at the exit.
 */
public final class PipelineWritePromiseAdvice {

    private PipelineWritePromiseAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    static boolean enter(@Advice.This ChannelHandlerContext ctx, @Advice.Argument(0) Object msg,
                         @Advice.Argument(1) ChannelPromise promise) {
        return !ctx.channel().isWritable() && NettyCalls.writeWhileUnwritable(ctx, msg, promise);
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.Enter boolean refused, @Advice.Argument(1) ChannelPromise promise,
                     @Advice.Return(readOnly = false) ChannelFuture future) {
        if (refused) {
            future = promise;
        }
    }
}

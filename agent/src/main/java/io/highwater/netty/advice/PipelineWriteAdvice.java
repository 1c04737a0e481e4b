package io.highwater.netty.advice;

import io.highwater.netty.bootstrap.NettyCalls;
import io.netty.channel.ChannelHandlerContext;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the start of {@code AbstractChannelHandlerContext.write(Object, ChannelPromise)} and
 * {@code writeAndFlush(Object, ChannelPromise)}: the entry into a pipeline of every write, the application's
 * ({@code ctx.write}, {@code channel.write}, from any thread) and each handler's passing it on. This is where one
 * application write is judged once, against the channel's state at the moment of the call; what codecs, TLS or
 * compression make of it further down never reaches the judgement again. Netty's own submission of a write to the
 * event loop re-enters the pipeline below these methods, so a write from another thread is judged once too, on the
 * application's thread.
 *
 * <p>Fast path: {@code channel().isWritable()}, a few field reads that Netty's own write path makes anyway; these
 * methods are 8 bytes long and stay under the size C2 inlines without a profile. The rest is one call.
 */
public final class PipelineWriteAdvice {

    private PipelineWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This ChannelHandlerContext ctx, @Advice.Argument(0) Object msg) {
        if (!ctx.channel().isWritable()) {
            NettyCalls.writeWhileUnwritable(ctx, msg);
        }
    }
}

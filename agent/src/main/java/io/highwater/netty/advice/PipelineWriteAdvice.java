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
 * <p>Fast path: one read of the JVM-wide count of unwritable channels ({@code NettyCalls.unwritableChannels}),
 * nearly always 0 on a healthy server. While some channel is unwritable, each hop hands its channel to
 * {@code NettyCalls.entersPipeline}, inlined: one identity hash and one read of a filter over the unwritable
 * channels tell every other channel's write that it is not one of them. Every hop of every write passes here (the
 * application's entry and each handler passing it on), so asking the channel itself at each of them,
 * {@code channel().isWritable()}, was a measurable loss on a pipeline of a few handlers (BENCHMARKS.md). These
 * methods are 8 bytes long and stay under the size C2 inlines without a profile ({@code AdviceSizeTest}). The rest
 * is one call.
 */
public final class PipelineWriteAdvice {

    private PipelineWriteAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.This ChannelHandlerContext ctx, @Advice.Argument(0) Object msg) {
        if (NettyCalls.unwritableChannels.get() != 0) {
            NettyCalls.entersPipeline(ctx, ctx.channel(), msg);
        }
    }
}

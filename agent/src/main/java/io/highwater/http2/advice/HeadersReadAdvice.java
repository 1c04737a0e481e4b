package io.highwater.http2.advice;

import io.highwater.http2.bootstrap.Http2Calls;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Headers;
import net.bytebuddy.asm.Advice;

/**
 * On {@code DefaultHttp2ConnectionDecoder$FrameReadListener.onHeadersRead} (the 8-argument form, which the 5-argument
 * one calls): every HEADERS frame a codec-http2 connection reads, once per request, not per DATA frame. Netty keeps no
 * request headers once decoded, so a stream's {@code :path} is remembered here for its name on the stream gauge.
 * Remapped onto each relocated copy of Netty like the netty integration's advice.
 */
public final class HeadersReadAdvice {

    private HeadersReadAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.Argument(0) ChannelHandlerContext ctx, @Advice.Argument(1) int streamId,
                      @Advice.Argument(2) Http2Headers headers) {
        CharSequence path = headers.path();
        if (path != null) {
            Http2Calls.headers(ctx.channel(), streamId, path);
        }
    }
}

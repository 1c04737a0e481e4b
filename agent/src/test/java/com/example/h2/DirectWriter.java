package com.example.h2;

import io.highwater.http2.bootstrap.Http2Calls;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * An application's HTTP/2 code for the flow-controller tests: what the advice on {@code FlowState.enqueueFrame}
 * reports when the application's code hands a frame to the encoder ({@link #write}), or when a pipeline handler's
 * {@code write} does ({@link EncodingHandler}).
 */
public final class DirectWriter {

    private DirectWriter() {
    }

    /** As {@code encoder().writeData(...)} called by the application: the advice's report of the frame enqueued. */
    public static void write(Object flowState, Object frame, long pendingBefore) {
        Http2Calls.enqueued(flowState, frame, pendingBefore);
    }

    /** A handler that turns what is written into its pipeline into frames for the encoder (as Http2FrameCodec does). */
    public static final class EncodingHandler extends ChannelOutboundHandlerAdapter {
        public Object flowState;
        public Object frame;
        public long pendingBefore;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            Http2Calls.enqueued(flowState, frame, pendingBefore);
            promise.setSuccess();
        }
    }
}

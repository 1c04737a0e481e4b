package io.highwater.it.apps;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;

/**
 * Drives Netty's own {@code ChannelOutboundBuffer} through a stop/go cycle per message, so that every slow path of
 * the Netty advice runs often enough for C2 to compile the instrumented methods: a write that makes the channel
 * unwritable (the writability change), a write into the pipeline while it is unwritable (the context's {@code write}),
 * a drain while unwritable ({@code removeBytes}), and the channel turning writable again. An {@code EmbeddedChannel}, which the agent never tracks: only how the JIT
 * compiles the advice is of interest here, not what the agent records.
 *
 * <p>Usage: {@code StopGoLoop <cycles>}; prints {@code CYCLES <n>} and exits.
 */
public final class StopGoLoop {

    private static final int SIZE = 256;

    private StopGoLoop() {
    }

    public static void main(String[] args) {
        int cycles = Integer.parseInt(args[0]);
        EmbeddedChannel channel = new EmbeddedChannel();
        // one message crosses the high-water mark; draining it crosses the low one
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(SIZE / 4, SIZE / 2));
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        ByteBuf payload = Unpooled.directBuffer(SIZE).writeZero(SIZE);
        int stops = 0;
        for (int i = 0; i < cycles; i++) {
            channel.write(payload.retainedDuplicate());
            if (!channel.isWritable()) {
                stops++;
            }
            channel.write(payload.retainedDuplicate());
            buffer.addFlush();
            buffer.removeBytes(2 * SIZE);
        }
        if (stops != cycles || !channel.isWritable() || buffer.totalPendingWriteBytes() != 0) {
            throw new IllegalStateException("the loop did not stop and go each cycle: " + stops + " stops");
        }
        payload.release();
        System.out.println("CYCLES " + cycles);
    }
}

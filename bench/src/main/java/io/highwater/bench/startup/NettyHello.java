package io.highwater.bench.startup;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

/**
 * The "hello world on Netty" JVM of bench/scripts/startup.sh: one channel, one write. Loading Netty's
 * {@code ChannelOutboundBuffer} is what makes the agent transform it (and load Byte Buddy), work it defers until
 * then; a plain hello world never pays it.
 *
 * <p>Usage: {@code NettyHello [lingerMillis]}: with a linger, the JVM stays up that long after the write, so that
 * work an agent does in the background after start-up (building its telemetry, compiling its code) is counted in
 * the process's CPU time too.
 */
public final class NettyHello {

    private NettyHello() {
    }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.writeAndFlush(Unpooled.copiedBuffer(new byte[] {'h', 'i', '\n'}));
        Object out = ch.readOutbound();
        System.out.println("hello, netty: " + out);
        ch.finishAndReleaseAll();
        if (args.length > 0) {
            Thread.sleep(Long.parseLong(args[0]));
        }
    }
}

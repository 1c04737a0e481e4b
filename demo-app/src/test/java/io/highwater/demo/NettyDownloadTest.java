package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The pacing of a download: a writer that asks to be resumed is resumed once, and never after the end. */
class NettyDownloadTest {

    @Test
    void aWriterAskingToBeResumedIsResumedOnceEvenWhenItsNextChunkIsAlreadyDue() throws Exception {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.freezeTime();
        // at 1 GiB/s a chunk is due every 16 µs: by the time the writer asks, the next one is due already
        NettyDownload download = new NettyDownload(1, false, channel, "peer", 1L << 20, 1L << 30, d -> { });
        Thread.sleep(2);
        AtomicInteger resumed = new AtomicInteger();
        download.resumeWhenDue(resumed::incrementAndGet);
        download.resumeWhenDue(resumed::incrementAndGet);
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(resumed).hasValue(1);
        assertThat(download.rowsDue()).isTrue();
        channel.finishAndReleaseAll();
    }

    @Test
    void anEndedDownloadIsNeverResumed() {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.freezeTime();
        AtomicInteger ended = new AtomicInteger();
        NettyDownload download = new NettyDownload(2, true, channel, "peer", 1L << 20, 1L << 20,
                d -> ended.incrementAndGet());
        AtomicInteger resumed = new AtomicInteger();
        download.resumeWhenDue(resumed::incrementAndGet);
        download.connectionClosed();
        download.connectionClosed();
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(resumed).hasValue(0);
        assertThat(ended).hasValue(1);
        assertThat(download.rowsDue()).isFalse();
        assertThat(download.allRowsQueued()).isFalse();
        channel.finishAndReleaseAll();
    }
}

package io.highwater.netty;

import io.highwater.core.GatedMap;
import io.highwater.netty.bootstrap.NettyCalls;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gate in front of the pipeline-write check, against real Netty channels: a channel is in it exactly while its
 * outbound buffer says unwritable, and the advice's filter (read without the agent, in the bootstrap class) agrees
 * with the agent's map for every key.
 */
class UnwritableGateTest {

    private final NettyAccess access = new NettyAccess();
    private final Predicate<Object> open = access::channelOpen;
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void tearDown() {
        UnwritableGate.GATE.clear();
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(32, 64));
        channels.add(ch);
        return ch;
    }

    private void changed(EmbeddedChannel ch) {
        Object buffer = ch.unsafe().outboundBuffer();
        UnwritableGate.GATE.changed(ch, access, buffer, open);
    }

    @Test
    void aChannelIsInTheGateWhileItsBufferIsUnwritable() {
        EmbeddedChannel ch = channel();
        EmbeddedChannel other = channel();
        ch.write(Unpooled.wrappedBuffer(new byte[128]));
        assertThat(ch.isWritable()).isFalse();
        changed(ch);
        changed(other);
        assertThat(NettyCalls.unwritableChannels.get()).isEqualTo(1);
        assertThat(NettyCalls.mayBeUnwritable(ch)).isTrue();

        ch.flush();
        assertThat(ch.isWritable()).isTrue();
        changed(ch);
        assertThat(NettyCalls.unwritableChannels.get()).isZero();
        assertThat(NettyCalls.mayBeUnwritable(ch)).isFalse();
    }

    @Test
    void aChannelKeepsItsEntryAcrossAGoAndLosesItAtTheNextTickWhileWritable() {
        EmbeddedChannel ch = channel();
        for (int stop = 0; stop < 3; stop++) {
            ch.write(Unpooled.wrappedBuffer(new byte[128]));
            changed(ch);
            assertThat(NettyCalls.unwritableChannels.get()).as("stop %d", stop).isEqualTo(1);
            assertThat(NettyCalls.mayBeUnwritable(ch)).isTrue();
            assertThat(UnwritableGate.GATE.kept()).as("one entry, the same at every stop").isEqualTo(1);
            ch.flush();
            changed(ch);
            assertThat(NettyCalls.unwritableChannels.get()).as("go %d", stop).isZero();
            assertThat(NettyCalls.mayBeUnwritable(ch)).isFalse();
            assertThat(UnwritableGate.GATE.kept()).as("kept while writable").isEqualTo(1);
        }
        UnwritableGate.GATE.tick();
        assertThat(UnwritableGate.GATE.kept()).as("a writable channel's entry, at the tick").isZero();
        assertThat(NettyCalls.unwritableChannels.get()).isZero();
        assertThat(NettyCalls.mayBeUnwritable(ch)).isFalse();

        // a new entry at its next stop
        ch.write(Unpooled.wrappedBuffer(new byte[128]));
        changed(ch);
        assertThat(NettyCalls.unwritableChannels.get()).isEqualTo(1);
        UnwritableGate.GATE.tick();
        assertThat(UnwritableGate.GATE.kept()).as("an unwritable open channel stays at the tick").isEqualTo(1);
        assertThat(NettyCalls.mayBeUnwritable(ch)).isTrue();
    }

    @Test
    void aClosedChannelLeavesAtItsCloseOrAtTheNextTick() {
        EmbeddedChannel seen = channel();
        EmbeddedChannel unseen = channel();
        for (EmbeddedChannel ch : List.of(seen, unseen)) {
            ch.write(Unpooled.wrappedBuffer(new byte[128]));
            changed(ch);
        }
        assertThat(NettyCalls.unwritableChannels.get()).isEqualTo(2);
        UnwritableGate.GATE.closed(seen);
        assertThat(NettyCalls.unwritableChannels.get()).isEqualTo(1);
        UnwritableGate.GATE.tick();
        assertThat(NettyCalls.unwritableChannels.get()).as("still open").isEqualTo(1);
        unseen.close();
        UnwritableGate.GATE.tick();
        assertThat(NettyCalls.unwritableChannels.get()).isZero();
        assertThat(NettyCalls.mayBeUnwritable(unseen)).isFalse();
    }

    @Test
    void theAdvicesFilterAgreesWithTheAgentsMapForEveryKey() {
        // the bootstrap class repeats GatedMap's slot formula: a disagreement would hide unwritable channels
        for (int i = 0; i < 20_000; i++) {
            Object key = new Object();
            int h = System.identityHashCode(key);
            assertThat(GatedMap.slot(h)).isEqualTo((h ^ (h >>> 12)) & (GatedMap.FILTER_SLOTS - 1));
        }
        assertThat(NettyCalls.unwritableFilter.length()).isEqualTo(GatedMap.FILTER_SLOTS);
        List<EmbeddedChannel> many = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            EmbeddedChannel ch = channel();
            ch.write(Unpooled.wrappedBuffer(new byte[128]));
            changed(ch);
            many.add(ch);
        }
        assertThat(NettyCalls.unwritableChannels.get()).isEqualTo(200);
        assertThat(many).allMatch(NettyCalls::mayBeUnwritable);
        UnwritableGate.GATE.clear();
        assertThat(NettyCalls.unwritableChannels.get()).isZero();
        assertThat(many).noneMatch(NettyCalls::mayBeUnwritable);
    }
}

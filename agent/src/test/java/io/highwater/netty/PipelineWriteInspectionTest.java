package io.highwater.netty;

import com.example.export.PipelineApp;
import io.highwater.core.CallSites;
import io.highwater.core.Clock;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which writes into a real Netty pipeline are the application's: the stack walk that decides it, on the stacks Netty
 * itself builds (Netty 4.1 here; 4.2's are covered by the integration tests), and how a context's handler decides
 * whether the walk is needed at all.
 */
class PipelineWriteInspectionTest {

    private final StackInspector inspector = new StackInspector(Collections.<String>emptyList());

    /**
     * Sits next to the head, in the agent's own package as the advice's frames are: each write that reaches it is
     * inspected as the advice would inspect the write entering its context.
     */
    private final class Probe extends ChannelOutboundHandlerAdapter {
        final List<StackInspector.Result> seen = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            seen.add(inspector.inspectPipelineWrite());
            ctx.write(msg, promise);
        }
    }

    @Test
    void aWriteFromTheApplicationsInboundHandlerIsTheApplicationsWithThatHandlerAsCallSite() {
        Probe probe = new Probe();
        EmbeddedChannel channel = new EmbeddedChannel(probe, new PipelineApp.Echo());
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
        assertThat(probe.seen).hasSize(1);
        assertThat(probe.seen.get(0).forwarded).isFalse();
        assertThat(probe.seen.get(0).function).isEqualTo(PipelineApp.Echo.class.getName() + ".channelRead");
    }

    @Test
    void aWritePassedOnByTheApplicationsOutboundHandlerIsNotTheApplicationsWrite() {
        Probe probe = new Probe();
        EmbeddedChannel channel = new EmbeddedChannel(probe, new PipelineApp.PassOn());
        PipelineApp.writeOnTheChannel(channel, Unpooled.wrappedBuffer(new byte[] {1}));
        assertThat(probe.seen).hasSize(1);
        assertThat(probe.seen.get(0).forwarded).as("passed on by PassOn.write, which the pipeline called").isTrue();
    }

    @Test
    void aWritePassedOnByANettyHandlerIsNotTheApplicationsWrite() {
        Probe probe = new Probe();
        // a combined handler calls its outbound half itself, whether or not that half marks write as skippable
        EmbeddedChannel channel = new EmbeddedChannel(probe,
                new CombinedChannelDuplexHandler<>(new ChannelInboundHandlerAdapter(), new ChannelOutboundHandlerAdapter()));
        PipelineApp.writeOnTheChannel(channel, Unpooled.wrappedBuffer(new byte[] {1}));
        assertThat(probe.seen).hasSize(1);
        assertThat(probe.seen.get(0).forwarded).isTrue();
    }

    @Test
    void aWritePassedOnByTheApplicationsHalfOfACombinedHandlerIsNotTheApplicationsWrite() {
        Probe probe = new Probe();
        EmbeddedChannel channel = new EmbeddedChannel(probe,
                new CombinedChannelDuplexHandler<>(new ChannelInboundHandlerAdapter(), new PipelineApp.PassOn()));
        PipelineApp.writeOnTheChannel(channel, Unpooled.wrappedBuffer(new byte[] {1}));
        assertThat(probe.seen).hasSize(1);
        assertThat(probe.seen.get(0).forwarded).as("PassOn.write called by the combined handler").isTrue();
    }

    @Test
    void aWriteOnTheChannelIsTheApplicationsWhereverItCameFrom() {
        Probe probe = new Probe();
        EmbeddedChannel channel = new EmbeddedChannel(probe);
        PipelineApp.writeOnTheChannel(channel, Unpooled.wrappedBuffer(new byte[] {1}));
        assertThat(probe.seen.get(0).forwarded).isFalse();
        assertThat(probe.seen.get(0).function).isEqualTo(PipelineApp.class.getName() + ".writeOnTheChannel");
    }

    @Test
    void aWriteFromAWriteListenerIsTheApplicationsThoughNettyFlushesAroundIt() {
        Probe probe = new Probe();
        EmbeddedChannel channel = new EmbeddedChannel(probe);
        PipelineApp.writeFromListener(channel, Unpooled.wrappedBuffer(new byte[] {1}),
                Unpooled.wrappedBuffer(new byte[] {2}));
        assertThat(probe.seen).hasSize(2);
        assertThat(probe.seen.get(1).forwarded).as("written in the listener, called during Netty's flush").isFalse();
        assertThat(probe.seen.get(1).function).startsWith(PipelineApp.class.getName() + ".lambda$writeFromListener");
    }

    @Test
    void theContextsHandlerSaysWhetherTheStackMustBeLookedAt() {
        NettyAdapter adapter = new NettyAdapter(new Monitor(new ConnectionRegistry(10, new Dropped(), Clock.SYSTEM),
                new CallSites(10, new Dropped()), new Dropped(), inspector, new RateLimiter(10, Clock.SYSTEM), 1.0,
                Clock.SYSTEM, 30_000_000_000L));
        EmbeddedChannel channel = new EmbeddedChannel(
                new CombinedChannelDuplexHandler<>(new ChannelInboundHandlerAdapter(), new ChannelOutboundHandlerAdapter()),
                new PipelineApp.PassOn(), new PipelineApp.Echo());
        List<NettyAdapter.Origin> origins = new ArrayList<>();
        for (String name : channel.pipeline().names()) {
            ChannelHandlerContext ctx = channel.pipeline().context(name);
            if (ctx != null) {
                origins.add(adapter.origin(ctx));
            }
        }
        // Netty's own handler, the application's outbound handler, its inbound handler
        assertThat(origins).startsWith(NettyAdapter.Origin.HANDLER, NettyAdapter.Origin.LOOK,
                NettyAdapter.Origin.APPLICATION);
    }
}

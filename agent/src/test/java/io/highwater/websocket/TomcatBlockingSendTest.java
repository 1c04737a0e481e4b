package io.highwater.websocket;

import com.example.ws.BlockingSender;
import io.highwater.core.CallSites;
import io.highwater.core.ConnectionRegistry;
import io.highwater.core.Dropped;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.StackInspector;
import io.highwater.core.TrackedConnection;
import io.highwater.websocket.bootstrap.WebSocketCalls;
import org.apache.tomcat.websocket.server.WsRemoteEndpointImplServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link WebSocketAdapter}'s view of Tomcat's blocking writes, on a fake clock: a write waits from the moment its
 * socket operation registers with the poller (the socket was full), and only a blocking operation whose completion
 * handler is the server endpoint's counts; it is a wait of its connection once the timer finds it waiting 1 ms or
 * more; its share is the frame's unsent remainder; it ends with the write (go), or, when bytes were left unsent,
 * with the connection's episode; the span's call site is the blocked thread's application frame.
 */
class TomcatBlockingSendTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped, now::get);
    private final Monitor monitor = new Monitor(registry, new CallSites(10, dropped), dropped,
            new StackInspector(Collections.emptyList()), new RateLimiter(100, now::get), 1.0, now::get, 1_000 * MS);
    private final List<Double> waits = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> endedWith = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean endsSeen = new AtomicBoolean(true);
    private final WebSocketAdapter adapter = new WebSocketAdapter(monitor, 16, 1024, endsSeen::get);

    TomcatBlockingSendTest() {
        monitor.attachDrainWaits((layer, seconds) -> {
            assertThat(layer).isEqualTo(WebSocketIntegration.LAYER);
            waits.add(seconds);
        });
        monitor.attachEpisodes((c, endNanos, pendingAtEnd, error) -> endedWith.add(pendingAtEnd));
    }

    /** Tomcat's server endpoint as the adapter reads it: its socket wrapper's state and addresses. */
    private static WsRemoteEndpointImplServer endpoint() {
        return new WsRemoteEndpointImplServer(new Socket());
    }

    /** Tomcat's {@code SocketWrapperBase.BlockingMode}. */
    enum BlockingMode { CLASSIC, NON_BLOCK, SEMI_BLOCK, BLOCK }

    /** A socket's pending write ({@code SocketWrapperBase$OperationState}) as the adapter reads it. */
    static final class Operation {
        final BlockingMode block;
        final Object handler;
        final ByteBuffer[] buffers;

        Operation(BlockingMode block, Object handler, ByteBuffer[] buffers) {
            this.block = block;
            this.handler = handler;
            this.buffers = buffers;
        }
    }

    private static Operation blockingWrite(WsRemoteEndpointImplServer e, ByteBuffer[] frame) {
        return new Operation(BlockingMode.BLOCK, e.completionHandler(), frame);
    }

    static final class Socket {
        public boolean isClosed() {
            return false;
        }

        public String getRemoteAddr() {
            return "127.0.0.1";
        }

        public int getRemotePort() {
            return 50000;
        }

        public String getLocalAddr() {
            return "127.0.0.1";
        }

        public int getLocalPort() {
            return 8080;
        }
    }

    private static ByteBuffer[] frame(int header, int payload) {
        return new ByteBuffer[] {ByteBuffer.allocate(header), ByteBuffer.allocate(payload)};
    }

    @Test
    void aWriteThatReturnsBeforeTheTimerIsNoEpisodeAndOnlyAWaitWhenItTookAMillisecond() {
        WsRemoteEndpointImplServer e = endpoint();
        ByteBuffer[] f = frame(10, 65536);
        adapter.tomcatSocketWaits(blockingWrite(e, f));
        assertThat(WebSocketCalls.tomcatBlocking).as("the hint for the write's end").isEqualTo(1);
        now.addAndGet(MS / 2);
        adapter.tick();
        drain(f);
        adapter.tomcatBlockingEnds(e);
        assertThat(waits).isEmpty();
        assertThat(WebSocketCalls.tomcatBlocking).as("no wait left").isZero();

        ByteBuffer[] g = frame(10, 65536);
        adapter.tomcatSocketWaits(blockingWrite(e, g));
        now.addAndGet(3 * MS);
        drain(g);
        adapter.tomcatBlockingEnds(e);
        assertThat(waits).containsExactly(0.003);
        assertThat(registry.isEmpty()).as("no episode").isTrue();
    }

    @Test
    void onlyABlockingWriteOfTheServerEndpointWaitsAndOnlyWhileItsEndIsSeen() {
        WsRemoteEndpointImplServer e = endpoint();
        ByteBuffer[] f = frame(10, 65536);
        // an async send's write (SEMI_BLOCK), a servlet's write (another handler), no handler at all
        adapter.tomcatSocketWaits(new Operation(BlockingMode.SEMI_BLOCK, e.completionHandler(), f));
        adapter.tomcatSocketWaits(new Operation(BlockingMode.BLOCK, new Object(), f));
        adapter.tomcatSocketWaits(new Operation(BlockingMode.BLOCK, null, f));
        assertThat(WebSocketCalls.tomcatBlocking).isZero();
        // the endpoint's writes are not advised (a version of another shape): a wait would never end
        endsSeen.set(false);
        adapter.tomcatSocketWaits(blockingWrite(e, f));
        assertThat(WebSocketCalls.tomcatBlocking).isZero();
        now.addAndGet(5 * MS);
        adapter.tick();
        assertThat(registry.isEmpty()).isTrue();
        // a write whose socket took every byte never registered: its end finds nothing
        adapter.tomcatBlockingEnds(e);
        assertThat(waits).isEmpty();
    }

    @Test
    void aWriteRunningAtTheTimerIsAWaitFromItsStartWithTheUnsentRemainderAndTheAppsCall() throws Exception {
        WsRemoteEndpointImplServer e = endpoint();
        ByteBuffer[] f = frame(10, 65536);
        Operation write = blockingWrite(e, f);
        CountDownLatch begun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread sender = BlockingSender.start(adapter, e, write, begun, release);
        begun.await();
        f[0].position(10);
        f[1].position(65536 - 40000);
        now.addAndGet(5 * MS);
        // the poller's thread runs the write again, the socket is still full: the same wait goes on
        adapter.tomcatSocketWaits(write);
        adapter.tick();

        TrackedConnection c = registry.get(e);
        assertThat(c).isNotNull();
        assertThat(c.isWaiting()).isTrue();
        assertThat(c.pendingBytes()).as("the frame's unsent remainder").isEqualTo(40000);
        assertThat(c.waitSite().function()).isEqualTo(BlockingSender.class.getName() + ".sendBinary");

        // the client reads a little between the timer's looks: progress, no stall
        now.addAndGet(600 * MS);
        f[1].position(65536 - 20000);
        adapter.tick();
        monitor.tick();
        now.addAndGet(600 * MS);
        monitor.tick();
        assertThat(c.stalled()).isFalse();

        now.addAndGet(100 * MS);
        drain(f);
        release.countDown();
        sender.join();
        assertThat(c.isWaiting()).isFalse();
        assertThat(waits).as("from the write's start to its end").containsExactly(1.305);
        assertThat(endedWith).as("the episode goes on until the connection is calm").isEmpty();
    }

    @Test
    void aWriteThatNeverDrainsStallsAndOneThatFailsEndsTheEpisodeWithWhatWasNotSent() throws Exception {
        WsRemoteEndpointImplServer e = endpoint();
        ByteBuffer[] f = frame(10, 65536);
        CountDownLatch begun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread sender = BlockingSender.start(adapter, e, blockingWrite(e, f), begun, release);
        begun.await();
        f[0].position(10);
        f[1].position(30000);
        now.addAndGet(2 * MS);
        adapter.tick();
        TrackedConnection c = registry.get(e);
        for (int i = 0; i < 6; i++) {
            now.addAndGet(250 * MS);
            adapter.tick();
            monitor.tick();
        }
        assertThat(c.stalled()).as("nothing drained for the stall threshold").isTrue();

        // Tomcat's timeout: the write returns with the bytes the socket never took
        release.countDown();
        sender.join();
        assertThat(registry.get(e)).as("the episode ended").isNull();
        assertThat(endedWith).containsExactly(65536L - 30000);
        assertThat(waits).as("from the write's start to its failure").containsExactly(1.502);
    }

    @AfterEach
    void reset() {
        adapter.reset();
    }

    private static void drain(ByteBuffer[] f) {
        for (ByteBuffer b : f) {
            b.position(b.limit());
        }
    }
}

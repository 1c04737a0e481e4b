package io.highwater.socket.bootstrap;

import jdk.internal.vm.annotation.DontInline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The socket layer's per-write bookkeeping, called by advice inlined into java.base's socket classes.
 *
 * <p>Timing every socket write would cost two {@code System.nanoTime()} calls (24 ns each on an idle 2-core
 * VM), over the layer's budget. Instead a write that may block claims a slot (indexed by its thread's id) and notes
 * the agent's sampler tick; the sampler, every few milliseconds, finds writes that have been running since before
 * its previous tick and reports them blocked. A write that parks for POLLOUT (virtual threads, sockets left
 * non-blocking by a timed read) is reported at the park itself. Only a reported write calls into the agent when it
 * ends, so a write on a socket that is not full costs a CAS and a few plain stores.
 *
 * <p>Threads whose ids share a slot while both write are rare; the second one's write is simply not observed.
 *
 * <p>Every way from here into the agent goes through a {@code DontInline} method, for the reason given on
 * {@link NettyCalls}: a slow path that runs often must not grow the compiled JDK method the advice sits in.
 */
public final class SocketWrites {

    /** Number of slots, a power of two. */
    public static final int SLOTS = 512;
    private static final int MASK = SLOTS - 1;

    /** Never null: {@link SocketHooks#NOOP} when no agent is active. */
    public static volatile SocketHooks hooks = SocketHooks.NOOP;

    /** False while no agent watches sockets: the advice then costs this one read. */
    public static volatile boolean active;

    /** Advanced by the agent's sampler. */
    public static volatile long tick;

    /** The native poll event for "writable" ({@code sun.nio.ch.Net.POLLOUT}), set by the agent. */
    public static volatile int pollOut = Integer.MIN_VALUE;

    /** Non-blocking channels waiting right now: their writes and selectors are looked at only while this is not 0. */
    public static final AtomicInteger nioWaiting = new AtomicInteger();

    /** Marks a slot being claimed: the sampler skips it. */
    private static final Object CLAIMING = new Object();

    private static final Slot[] SLOT = new Slot[SLOTS];

    static {
        for (int i = 0; i < SLOTS; i++) {
            SLOT[i] = new Slot();
        }
    }

    /** One write that may block, in progress (or a free slot). */
    public static final class Slot {
        private static final VarHandle OWNER;
        private static final VarHandle STATE;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                OWNER = l.findVarHandle(Slot.class, "owner", Object.class);
                STATE = l.findVarHandle(Slot.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        // volatile for the sampler's plain reads (no VarHandle machinery on its side, so its loop compiles small);
        // the writer's stores to them go through the VarHandles with weaker, cheaper modes
        private volatile Object owner;
        private volatile int state;
        private long bytes;
        private long startTick;
        private long seq;

        /** The socket whose write runs in this slot, or null. */
        public Object owner() {
            Object o = owner;
            return o == CLAIMING ? null : o;
        }

        /** Bytes handed to the write. */
        public long bytes() {
            return bytes;
        }

        /** The sampler tick the write began in. */
        public long startTick() {
            return startTick;
        }

        /** Which write of this slot it is: changes with every write. */
        public long seq() {
            return seq;
        }

        /** True for the one caller that reports this write as waiting. */
        public boolean report() {
            return STATE.compareAndSet(this, 0, 1);
        }
    }

    private SocketWrites() {
    }

    /** The slot at {@code index}, for the agent's sampler. */
    public static Slot slot(int index) {
        return SLOT[index];
    }

    /**
     * A write of {@code bytes} on {@code socket} begins; returns its slot for {@link #end}, or null. Typed
     * {@code Object} for the advice, whose signatures Byte Buddy resolves where this class has no class file.
     */
    public static Object begin(Object socket, long bytes) {
        if (!active) {
            return null;
        }
        Slot s = SLOT[(int) Thread.currentThread().getId() & MASK];
        if (Slot.OWNER.getOpaque(s) != null || !Slot.OWNER.compareAndSet(s, null, CLAIMING)) {
            return null;
        }
        s.bytes = bytes;
        s.startTick = tick;
        s.seq++;
        Slot.STATE.setOpaque(s, 0);
        Slot.OWNER.setRelease(s, socket);
        return s;
    }

    /**
     * Keeps this thread's socket writes out of the slots until {@link #endExemption}: the agent's own export, whose
     * connection is none of the host's business. Claims the thread's slot as a starting write does, so that no
     * write of this thread can take it and the sampler passes it by. False when another thread's write holds the
     * slot right now: this thread's writes are then left out only until that write ends.
     */
    public static boolean exemptThisThread() {
        return Slot.OWNER.compareAndSet(SLOT[(int) Thread.currentThread().getId() & MASK], null, CLAIMING);
    }

    /** Ends what a successful {@link #exemptThisThread} began, on the same thread. */
    public static void endExemption() {
        Slot.OWNER.setRelease(SLOT[(int) Thread.currentThread().getId() & MASK], null);
    }

    /** The write whose {@link #begin} returned {@code slot} returned, or threw ({@code failed}). */
    public static void end(Object slot, boolean failed) {
        Slot s = (Slot) slot;
        // a failed write matters even when it did not wait: a blocked write often returns what it wrote before the
        // reset, and the next one throws at once
        if (failed || (int) Slot.STATE.getAcquire(s) != 0) {
            ended(s, failed);
        }
        Slot.OWNER.setRelease(s, null);
    }

    @DontInline
    private static void ended(Slot s, boolean failed) {
        try {
            hooks.writeEnded(Slot.OWNER.getOpaque(s), failed, s.bytes);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /*
     * The channel advice's two calls. The advice is inlined into SocketChannelImpl.write, which Netty's NIO transport
     * calls on every flush; kept to one call each, it adds the fewest bytes to a method C2 may inline into the
     * caller only while it stays under FreqInlineSize (325 bytes; the gathering write is 208 on its own).
     */

    /** Enter of {@code SocketChannelImpl.write(ByteBuffer)}: a blocking channel's write takes a slot. */
    public static Object channelWriteBegins(java.nio.channels.SocketChannel channel, java.nio.ByteBuffer buffer) {
        return channel.isBlocking() ? begin(channel, buffer.remaining()) : null;
    }

    /**
     * Exit of {@code SocketChannelImpl.write(ByteBuffer)}: a non-blocking write is looked at only when it left
     * bytes behind or some channel is waiting.
     */
    public static void channelWriteEnds(java.nio.channels.SocketChannel channel, Object slot,
                                        java.nio.ByteBuffer buffer, int written, Throwable thrown) {
        if (slot != null) {
            end(slot, thrown != null);
        } else if (thrown == null && (buffer.hasRemaining() || nioWaiting.get() != 0) && !channel.isBlocking()) {
            nonBlocking(channel, written, buffer.remaining());
        }
    }

    /** Enter of {@code SocketChannelImpl.write(ByteBuffer[], int, int)}. */
    public static Object gatherBegins(java.nio.channels.SocketChannel channel, java.nio.ByteBuffer[] buffers,
                                      int offset, int length) {
        return channel.isBlocking() ? begin(channel, remaining(buffers, offset, length)) : null;
    }

    /**
     * Exit of {@code SocketChannelImpl.write(ByteBuffer[], int, int)}. A gathering write fills its buffers in order,
     * so it left bytes behind exactly when its last buffer has some: the buffers are summed only then.
     */
    public static void gatherEnds(java.nio.channels.SocketChannel channel, Object slot, java.nio.ByteBuffer[] buffers,
                                  int offset, int length, long written, Throwable thrown) {
        if (slot != null) {
            end(slot, thrown != null);
        } else if (thrown == null && length > 0
                && (buffers[offset + length - 1].hasRemaining() || nioWaiting.get() != 0)
                && !channel.isBlocking()) {
            gatherLeftBehind(channel, written, buffers, offset, length);
        }
    }

    @DontInline
    private static void gatherLeftBehind(Object channel, long written, java.nio.ByteBuffer[] buffers, int offset,
                                         int length) {
        nonBlocking(channel, written, remaining(buffers, offset, length));
    }

    /**
     * Exit of a socket stream's write: {@code slot} is what {@link #begin} returned, maybe null. Returns what the
     * write throws: {@code thrown}, or the guard's refusal in its place (see {@link #refusing}).
     */
    public static Throwable streamWriteEnds(Object slot, Object socket, Throwable thrown) {
        if (slot != null) {
            end(slot, thrown != null);
        }
        return thrown != null && refusing != 0 ? refused(socket, thrown) : thrown;
    }

    /**
     * Sockets whose writes the guard refused ({@code highwater.guard.action=fail}) exist: a stream write that throws
     * asks the agent whether the application should see the guard's {@code IOException} instead. 0 otherwise, and
     * then a failing write costs this one read.
     */
    public static volatile int refusing;

    @DontInline
    private static Throwable refused(Object socket, Throwable thrown) {
        try {
            Throwable t = hooks.refusal(socket, thrown);
            return t != null ? t : thrown;
        } catch (Throwable t) {
            return thrown;
        }
    }

    /** {@code socket} is about to park for {@code event}: a write's wait, when this thread's slot holds its write. */
    public static void parking(Object socket, int event) {
        if (event != pollOut || !active) {
            return;
        }
        Slot s = SLOT[(int) Thread.currentThread().getId() & MASK];
        if (Slot.OWNER.getAcquire(s) == socket && s.report()) {
            parked(socket, s);
        }
    }

    @DontInline
    private static void parked(Object socket, Slot s) {
        try {
            hooks.parked(socket, s);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /**
     * A non-blocking write handed over {@code written} bytes and left {@code left} behind; the advice calls this only
     * when it left some, or some channel is waiting.
     */
    @DontInline
    public static void nonBlocking(Object channel, long written, long left) {
        try {
            hooks.nonBlockingWrite(channel, written, left);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    /** The bytes left in {@code buffers[offset .. offset + length)}. */
    public static long remaining(java.nio.ByteBuffer[] buffers, int offset, int length) {
        long n = 0;
        for (int i = offset, end = offset + length; i < end; i++) {
            n += buffers[i].remaining();
        }
        return n;
    }

    /** A selector processed {@code key}. */
    public static void keyReady(Object key) {
        if (nioWaiting.get() != 0) {
            keyReadyWhileWaiting(key);
        }
    }

    @DontInline
    private static void keyReadyWhileWaiting(Object key) {
        try {
            hooks.keyReady(key);
        } catch (Throwable t) {
            // never into the host's selector
        }
    }
}

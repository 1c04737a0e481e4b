package io.highwater.telemetry;

/**
 * A little heap the agent holds back for a memory crisis of its host: released when one of the agent's threads
 * meets an {@link OutOfMemoryError}, so that its next export finds room, and taken again once the heap has room
 * for it several times over.
 *
 * <p>The reserve is a few blocks of 64 KiB, not one array: a single large array would be a humongous object for G1
 * on a small heap, needing contiguous free regions to be taken again. Its size is a sixty-fourth of the max heap,
 * at least 256 KiB and at most 4 MiB (1 MiB on a 64 MiB heap): what one export needs (a collection, its protobuf
 * request, one HTTP connection) with room to spare.
 *
 * <p>Thread-safe. {@link #release()} allocates nothing and never throws, so it can run where memory has run out.
 */
public final class MemoryReserve {

    static final int BLOCK = 64 * 1024;
    private static final long MIN = 256 * 1024;
    private static final long MAX = 4 * 1024 * 1024;
    /** The heap must have room for the reserve this many times over before it is taken again. */
    private static final int HEADROOM = 4;

    private final byte[][] blocks;
    private final long bytes;
    /** Blocks held right now; written under {@code this}, read without. */
    private volatile int held;
    private volatile boolean crisis;
    private volatile long releases;

    public MemoryReserve(long maxHeap) {
        long size = Math.max(MIN, Math.min(MAX, maxHeap / 64));
        this.blocks = new byte[(int) ((size + BLOCK - 1) / BLOCK)][];
        this.bytes = (long) blocks.length * BLOCK;
    }

    /** Takes the reserve while memory is plentiful (when the SDK is built); nothing happens if it is held. */
    public boolean take() {
        return retake(Long.MAX_VALUE);
    }

    /**
     * Takes the reserve again when the heap has room for it {@value #HEADROOM} times over ({@code free} bytes, or
     * the JVM's own account when {@code free} is {@link Long#MAX_VALUE}). Ends the crisis once all of it is held.
     *
     * @return true when this call ended a crisis
     */
    public synchronized boolean retake(long free) {
        if (held == blocks.length) {
            return false;
        }
        long room = free == Long.MAX_VALUE ? headroom() : free;
        if (room < HEADROOM * bytes) {
            return false;
        }
        try {
            for (int i = 0; i < blocks.length; i++) {
                if (blocks[i] == null) {
                    blocks[i] = new byte[BLOCK];
                    held++;
                }
            }
        } catch (OutOfMemoryError stillShort) {
            return false;
        }
        boolean ended = crisis;
        crisis = false;
        return ended;
    }

    /**
     * Lets the reserve go: called when one of the agent's threads ran out of memory. Allocates nothing.
     *
     * @return true when this call started a crisis (the first release since the reserve was last held in full)
     */
    public boolean release() {
        boolean started = !crisis;
        crisis = true;
        releases++;
        // unsynchronised on purpose: a thread that ran out of memory must not wait for a retake under way
        byte[][] b = blocks;
        for (int i = 0; i < b.length; i++) {
            b[i] = null;
        }
        held = 0;
        return started;
    }

    /** True from a release until the reserve is held in full again. */
    public boolean crisis() {
        return crisis;
    }

    /** How many times it was released. */
    public long releases() {
        return releases;
    }

    /** The size of the reserve, in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Bytes the heap can still give: what is free of its committed size, plus what it may still grow by. */
    static long headroom() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - r.totalMemory() + r.freeMemory();
    }

    /** True when {@code t}, or one of its causes, is an {@link OutOfMemoryError}. Allocates nothing. */
    public static boolean isOutOfMemory(Throwable t) {
        Throwable c = t;
        for (int depth = 0; c != null && depth < 16; depth++) {
            if (c instanceof OutOfMemoryError) {
                return true;
            }
            Throwable next = c.getCause();
            c = next == c ? null : next;
        }
        return false;
    }
}

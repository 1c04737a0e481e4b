package io.highwater.telemetry;

/**
 * A little heap the agent holds back for a memory crisis of its host: released when one of the agent's threads
 * meets an {@link OutOfMemoryError}, so that its next export finds room, and taken again once the heap can give it
 * and four times as much beside (the agent's ticker tries now and then; trying is the only reliable test, for what
 * the JVM reports as free does not count garbage that a collection would free).
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
    /** Beside the reserve, the heap must give this many times as much before the reserve is taken back. */
    static final int MARGIN = 4;

    private final byte[][] blocks;
    private final long bytes;
    private volatile boolean crisis;
    private volatile long releases;
    /** Only while {@link #retake} tries. */
    private volatile byte[][] margin;

    public MemoryReserve(long maxHeap) {
        long size = Math.max(MIN, Math.min(MAX, maxHeap / 64));
        this.blocks = new byte[(int) ((size + BLOCK - 1) / BLOCK)][];
        this.bytes = (long) blocks.length * BLOCK;
    }

    /**
     * Takes the reserve: when the SDK is built, which needs it to report a crisis. If the heap cannot give it,
     * nothing is held, the crisis goes on (or starts) and the {@link OutOfMemoryError} is thrown: a build now would
     * take the host's last bytes.
     */
    public synchronized void take() {
        try {
            for (int i = 0; i < blocks.length; i++) {
                if (blocks[i] == null) {
                    blocks[i] = new byte[BLOCK];
                }
            }
            crisis = false;
        } catch (OutOfMemoryError e) {
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = null;
            }
            crisis = true;
            throw e;
        }
    }

    /**
     * Tries to take the reserve again after a crisis, without throwing: only when the heap gives the reserve and
     * {@value #MARGIN} times as much beside it (allocated and let go at once). A heap that can give just the
     * reserve is still full: taking it back then would take the room the next export needs.
     *
     * @return true when this call ended a crisis
     */
    public synchronized boolean retake() {
        if (!crisis) {
            return false;
        }
        try {
            // held through a field while trying, so that no compiler drops the allocations as unused
            margin = new byte[MARGIN * blocks.length][];
            for (int i = 0; i < margin.length; i++) {
                margin[i] = new byte[BLOCK];
            }
            take();
            return true;
        } catch (OutOfMemoryError stillShort) {
            return false;
        } finally {
            margin = null;
        }
    }

    /**
     * Lets the reserve go: called when one of the agent's threads ran out of memory. Allocates nothing.
     *
     * @return true when this call started a crisis
     */
    public boolean release() {
        boolean started = !crisis;
        crisis = true;
        releases++;
        // unsynchronised on purpose: a thread that ran out of memory must not wait for a take under way
        byte[][] b = blocks;
        for (int i = 0; i < b.length; i++) {
            b[i] = null;
        }
        return started;
    }

    /** True from a release (or a take that failed) until the reserve is taken again. */
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

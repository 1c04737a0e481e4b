package io.highwater.guard;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.function.LongSupplier;

/**
 * The memory pools that can hold pending bytes: the heap (its used bytes and limit from the {@code MemoryMXBean})
 * and direct memory (the {@code BufferPoolMXBean} "direct", against the max direct memory the agent already knows
 * for {@code backpressure.memory.limit}). Read on the agent's timer only, and only when the guard is on.
 */
public interface MemoryPools {

    String HEAP = "heap";
    String DIRECT = "direct";

    /** Bytes in use in {@code pool} ({@link #HEAP} or {@link #DIRECT}); -1 when unknown. */
    long used(String pool);

    /** The limit of {@code pool}; -1 when unknown. */
    long max(String pool);

    /** The JVM's own pools. */
    static MemoryPools jvm(LongSupplier maxDirect) {
        return new MemoryPools() {
            private volatile BufferPoolMXBean direct;

            @Override
            public long used(String pool) {
                try {
                    if (HEAP.equals(pool)) {
                        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    }
                    BufferPoolMXBean d = direct;
                    if (d == null) {
                        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                            if ("direct".equals(b.getName())) {
                                direct = d = b;
                            }
                        }
                    }
                    return d == null ? -1 : d.getMemoryUsed();
                } catch (RuntimeException | LinkageError e) {
                    return -1;
                }
            }

            @Override
            public long max(String pool) {
                try {
                    if (HEAP.equals(pool)) {
                        MemoryUsage u = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                        return u.getMax();
                    }
                    return maxDirect.getAsLong();
                } catch (RuntimeException | LinkageError e) {
                    return -1;
                }
            }
        };
    }
}

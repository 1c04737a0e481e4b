package io.highwater.telemetry;

import java.lang.management.ManagementFactory;
import java.lang.management.PlatformManagedObject;
import java.lang.reflect.Method;

/**
 * The JVM's max heap and max direct memory. Read on first use (at the first collection, not during start-up,
 * which stays free of management beans) and cached: they cannot change while the JVM runs.
 */
public final class MemoryLimits {

    private volatile long maxHeap = -1;
    private volatile long maxDirect = -1;

    /**
     * {@code -XX:MaxDirectMemorySize}, or the JDK's default when it is unset (0): the max heap size. Read through
     * the HotSpot diagnostic bean by reflection, so a JVM without it still starts the agent.
     */
    static long maxDirect(long heap) {
        try {
            @SuppressWarnings("unchecked")
            Class<? extends PlatformManagedObject> type = (Class<? extends PlatformManagedObject>)
                    Class.forName("com.sun.management.HotSpotDiagnosticMXBean");
            Object bean = ManagementFactory.getPlatformMXBean(type);
            Object option = type.getMethod("getVMOption", String.class).invoke(bean, "MaxDirectMemorySize");
            Method value = option.getClass().getMethod("getValue");
            long v = Long.parseLong(String.valueOf(value.invoke(option)));
            return v > 0 ? v : heap;
        } catch (Exception | LinkageError e) {
            return heap;
        }
    }

    public long maxHeap() {
        long h = maxHeap;
        if (h < 0) {
            maxHeap = h = Runtime.getRuntime().maxMemory();
        }
        return h;
    }

    public long maxDirect() {
        long d = maxDirect;
        if (d < 0) {
            maxDirect = d = maxDirect(maxHeap());
        }
        return d;
    }
}

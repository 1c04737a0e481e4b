package io.highwater.telemetry;

import io.highwater.base.Log;
import io.highwater.core.CallSite;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.core.Signal;
import io.highwater.core.Snapshot;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code highwater.console=true}: a compact periodic summary on stderr, for a first look without a collector
 * and for the demo. Prints only while something is or was under pressure.
 */
public final class ConsoleSummary implements Runnable {

    private static final int SITES_SHOWN = 3;
    private static final int CONNECTIONS_SHOWN = 3;

    private final Monitor monitor;
    private final Set<Layer> layers;
    private final MemoryLimits limits;
    private final long[] peak = new long[Layer.MAX];
    private final io.highwater.core.KernelSendQueues kernel = io.highwater.core.KernelSendQueues.linux();
    private boolean quiet = true;

    public ConsoleSummary(Monitor monitor, Set<Layer> layers, MemoryLimits limits) {
        this.monitor = monitor;
        this.layers = layers;
        this.limits = limits;
    }

    @Override
    public void run() {
        try {
            print(Snapshot.take(monitor, CONNECTIONS_SHOWN, monitor.clock().nanoTime()));
        } catch (RuntimeException e) {
            Log.once("console", "console summary failed: " + e);
        }
    }

    private void print(Snapshot s) {
        List<CallSite> sites = monitor.callSites().all();
        for (Layer layer : layers) {
            long pending = s.pendingBytes(layer);
            int i = layer.index();
            // between two prints a pile-up can come and go: connections keep their own peak, seen at every write
            peak[i] = Math.max(Math.max(peak[i], monitor.endedEpisodePeak(layer)),
                    Math.max(pending, s.peakConnectionPending(layer)));
            boolean active = s.trackedConnections(layer) > 0 || hasSites(sites, layer);
            if (!active && quiet) {
                continue;
            }
            quiet = false;
            Log.info(String.format(Locale.ROOT, "%s: %d connection(s) tracked, %d blocked (oldest wait %.1f s),"
                            + " %d stall(s); %s pending now, peak %s (heap max %s, direct max %s)",
                    layer.id(), s.trackedConnections(layer), s.blocked(layer), s.oldestWaitNanos(layer) / 1e9,
                    monitor.stalls(layer), bytes(pending), bytes(peak[i]),
                    bytes(limits.maxHeap()), bytes(limits.maxDirect())));
            for (Signal signal : Signal.all()) {
                if (signal.layer() != layer) {
                    continue;
                }
                // read each counter once, so the total and its parts agree
                List<long[]> counts = new java.util.ArrayList<>();
                List<CallSite> mine = new java.util.ArrayList<>();
                long total = 0;
                for (CallSite c : sites) {
                    if (c.signal() == signal) {
                        long w = c.writes();
                        total += w;
                        counts.add(new long[] {w, mine.size()});
                        mine.add(c);
                    }
                }
                if (total == 0) {
                    continue;
                }
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                        "  ignored %s: %d writes, %s, from ", signal.id(), total, bytes(monitor.ignoredBytes(signal))));
                counts.sort(Comparator.comparingLong((long[] c) -> c[0]).reversed());
                for (long[] c : counts.subList(0, Math.min(SITES_SHOWN, counts.size()))) {
                    line.append(mine.get((int) c[1]).function()).append(" (").append(c[0]).append(") ");
                }
                Log.info(line.toString().trim());
            }
            java.util.List<io.highwater.core.TrackedConnection> top = new java.util.ArrayList<>();
            for (Snapshot.Entry e : s.top()) {
                top.add(e.connection);
            }
            java.util.Map<io.highwater.core.TrackedConnection, Long> queued =
                    kernel == null ? java.util.Collections.emptyMap() : kernel.read(top);
            for (Snapshot.Entry e : s.top()) {
                if (e.connection.layer() == layer) {
                    Long k = queued.get(e.connection);
                    Log.info(String.format(Locale.ROOT, "  %s:%d -> :%d  %s pending in the process%s%s",
                            e.connection.peerAddress(), e.connection.peerPort(), e.connection.serverPort(),
                            bytes(e.pendingBytes), shares(e),
                            k == null ? "" : ", " + bytes(k) + " in the kernel's send queue"));
                }
            }
        }
    }

    /** The layers' parts, when more than one layer holds bytes of the connection. */
    private static String shares(Snapshot.Entry e) {
        if (e.shares.size() < 2) {
            return "";
        }
        StringBuilder b = new StringBuilder(" (");
        for (Snapshot.Share share : e.shares) {
            b.append(b.length() > 2 ? ", " : "").append(share.layer.id()).append(' ').append(bytes(share.pendingBytes));
        }
        return b.append(')').toString();
    }

    private static boolean hasSites(List<CallSite> sites, Layer layer) {
        for (CallSite c : sites) {
            if (c.signal().layer() == layer) {
                return true;
            }
        }
        return false;
    }

    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        if (b < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        if (b < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    }
}

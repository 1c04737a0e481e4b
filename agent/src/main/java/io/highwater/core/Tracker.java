package io.highwater.core;

/**
 * How one integration's transports enter the model: its layer and probe, bound once, so that an adapter only says
 * which transport and when.
 */
public final class Tracker {

    private final Monitor monitor;
    private final ConnectionRegistry registry;
    private final Layer layer;
    private final TransportProbe probe;

    Tracker(Monitor monitor, Layer layer, TransportProbe probe) {
        this.monitor = monitor;
        this.registry = monitor.registry();
        this.layer = layer;
        this.probe = probe;
    }

    /** The tracked connection of {@code transport}, or null when it is not tracked. */
    public TrackedConnection get(Object transport) {
        return registry.get(transport);
    }

    /**
     * The tracked connection of {@code transport}, registering it with its pending bytes read from the probe.
     *
     * @param atStopSignal whether this is its stop signal (a refusal for lack of room then counts as dropped)
     * @return null when the registry is full
     */
    public TrackedConnection track(Object transport, boolean atStopSignal) {
        TrackedConnection c = registry.get(transport);
        return c != null ? c : monitor.track(transport, layer, probe, atStopSignal,
                Math.max(0, probe.pendingBytes(transport)));
    }

    /** As {@link #track(Object, boolean)}, where the caller knows the pending bytes already. */
    public TrackedConnection track(Object transport, boolean atStopSignal, long pendingNow) {
        TrackedConnection c = registry.get(transport);
        return c != null ? c : monitor.track(transport, layer, probe, atStopSignal, pendingNow);
    }

    public Layer layer() {
        return layer;
    }
}

package io.highwater.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The stop signal a write ignored: the {@code backpressure.signal} attribute, with the layer it belongs to. Each
 * integration defines its own ({@code channel_unwritable}, {@code output_not_ready}, ...), as {@link Layer}s are.
 */
public final class Signal {

    /** How many signals there can be at most. */
    public static final int MAX = 32;

    private static final List<Signal> DEFINED = new ArrayList<>();

    private final String id;
    private final Layer layer;
    private final int index;

    private Signal(String id, Layer layer, int index) {
        this.id = id;
        this.layer = layer;
        this.index = index;
    }

    /** The signal named {@code id} of {@code layer}, defined now if it was not yet. */
    public static synchronized Signal define(String id, Layer layer) {
        for (Signal s : DEFINED) {
            if (s.id.equals(id)) {
                if (s.layer != layer) {
                    throw new IllegalArgumentException("signal " + id + " belongs to " + s.layer + ", not " + layer);
                }
                return s;
            }
        }
        if (DEFINED.size() == MAX) {
            throw new IllegalStateException("more than " + MAX + " signals: " + DEFINED + " and " + id);
        }
        Signal s = new Signal(id, layer, DEFINED.size());
        DEFINED.add(s);
        return s;
    }

    /** Every signal defined so far, in the order of definition. */
    public static synchronized List<Signal> all() {
        return Collections.unmodifiableList(new ArrayList<>(DEFINED));
    }

    public String id() {
        return id;
    }

    public Layer layer() {
        return layer;
    }

    /** From 0, below {@link #MAX}: the signal's slot in per-signal arrays. */
    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return id;
    }
}

package io.highwater.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The transport layer a backpressure signal came from: the {@code backpressure.layer} attribute. Each integration
 * defines its own ({@code netty}, {@code servlet}, {@code socket}, ...); the model sizes its per-layer counts by
 * {@link #MAX} and indexes them by {@link #index()}. Defining the same name twice gives the same layer, so a
 * layer is one value however many integrations (or tests) name it.
 */
public final class Layer {

    /** How many layers there can be at most. */
    public static final int MAX = 16;

    private static final List<Layer> DEFINED = new ArrayList<>();
    private static final Layer[] BY_INDEX = new Layer[MAX];

    private final String id;
    private final int index;

    private Layer(String id, int index) {
        this.id = id;
        this.index = index;
    }

    /** The layer named {@code id}, defined now if it was not yet. */
    public static synchronized Layer define(String id) {
        for (Layer l : DEFINED) {
            if (l.id.equals(id)) {
                return l;
            }
        }
        if (DEFINED.size() == MAX) {
            throw new IllegalStateException("more than " + MAX + " layers: " + DEFINED + " and " + id);
        }
        Layer l = new Layer(id, DEFINED.size());
        DEFINED.add(l);
        BY_INDEX[l.index] = l;
        return l;
    }

    /** Every layer defined so far, in the order of definition. */
    public static synchronized List<Layer> all() {
        return Collections.unmodifiableList(new ArrayList<>(DEFINED));
    }

    /** The layer of slot {@code index}; null when none is defined there. */
    public static synchronized Layer byIndex(int index) {
        return BY_INDEX[index];
    }

    public String id() {
        return id;
    }

    /** From 0, below {@link #MAX}: the layer's slot in per-layer arrays. */
    public int index() {
        return index;
    }

    @Override
    public String toString() {
        return id;
    }
}

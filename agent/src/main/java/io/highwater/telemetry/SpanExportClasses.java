package io.highwater.telemetry;

import io.highwater.base.Log;

/**
 * The classes a span export needs beyond those the first metrics export loads, loaded and initialised when the SDK
 * is built: the first span export may come in a memory crisis (an episode usually ends when its connection
 * closes), and a class whose initialisation runs out of memory stays unusable for the life of the JVM. The metrics
 * path needs no list: the first metrics export runs as soon as the SDK is built.
 *
 * <p>The names are the unrelocated ones; the build's relocation rewrites them with the classes.
 * {@code SpanExportClassesTest} checks that every one exists in the OpenTelemetry version the agent bundles.
 */
final class SpanExportClasses {

    static final String[] NAMES = {
        "io.opentelemetry.sdk.trace.SpanWrapper",
        "io.opentelemetry.sdk.trace.AutoValue_SpanWrapper",
        "io.opentelemetry.sdk.trace.data.ImmutableStatusData",
        "io.opentelemetry.exporter.internal.otlp.traces.InstrumentationScopeSpansMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.InstrumentationScopeSpansStatelessMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.LowAllocationTraceRequestMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.ResourceSpansMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.ResourceSpansStatelessMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanEventMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanEventStatelessMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanFlags",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanLinkMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanLinkStatelessMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanReusableDataMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanStatelessMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanStatusMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.SpanStatusStatelessMarshaler",
        "io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler",
        "io.opentelemetry.proto.collector.trace.v1.internal.ExportTraceServiceRequest",
        "io.opentelemetry.proto.trace.v1.internal.ResourceSpans",
        "io.opentelemetry.proto.trace.v1.internal.ScopeSpans",
        "io.opentelemetry.proto.trace.v1.internal.Span",
        "io.opentelemetry.proto.trace.v1.internal.Span$Event",
        "io.opentelemetry.proto.trace.v1.internal.Span$Link",
        "io.opentelemetry.proto.trace.v1.internal.Span$SpanKind",
        "io.opentelemetry.proto.trace.v1.internal.Status",
        "io.opentelemetry.proto.trace.v1.internal.Status$StatusCode",
    };

    private SpanExportClasses() {
    }

    /** Loads and initialises them; returns how many could be. One missing is no failure, only less preparation. */
    static int preload(ClassLoader loader) {
        int loaded = 0;
        for (String name : NAMES) {
            try {
                Class.forName(name, true, loader);
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                Log.debug("not preloaded for span exports: " + name + " (" + e + ")");
            }
        }
        return loaded;
    }
}

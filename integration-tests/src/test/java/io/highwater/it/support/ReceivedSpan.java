package io.highwater.it.support;

import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One OTLP span as received, with its batch, resource and scope, and its attributes decoded as in
 * {@link MetricPoint} (an int attribute is a {@link Long}, a double a {@link Double}, a bool a {@link Boolean}).
 *
 * @param batch        index of the trace export request it came in, in arrival order from 0
 * @param resource     the resource's attributes
 * @param scopeName    instrumentation scope name
 * @param scopeVersion instrumentation scope version ("" when absent)
 * @param span         the span itself
 * @param attributes   the span's attributes
 */
public record ReceivedSpan(int batch, Map<String, Object> resource, String scopeName, String scopeVersion, Span span,
                           Map<String, Object> attributes) {

    public ReceivedSpan {
        resource = Collections.unmodifiableMap(new LinkedHashMap<>(resource));
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    static ReceivedSpan of(int batch, Map<String, Object> resource, String scopeName, String scopeVersion, Span span) {
        return new ReceivedSpan(batch, resource, scopeName, scopeVersion, span,
                MetricPoint.toMap(span.getAttributesList()));
    }

    public String name() {
        return span.getName();
    }

    public Object attr(String key) {
        return attributes.get(key);
    }

    /** True when the attribute is present with exactly this value (mind the type, see {@link MetricPoint}). */
    public boolean has(String key, Object expected) {
        return Objects.equals(attributes.get(key), expected);
    }

    /** An int attribute; fails when it is missing or of another type. */
    public long longAttr(String key) {
        Object v = attributes.get(key);
        if (!(v instanceof Long)) {
            throw new AssertionError("expected an int attribute " + key + " but got " + describe(v) + " in " + this);
        }
        return (Long) v;
    }

    /** A double attribute; fails when it is missing or of another type. */
    public double doubleAttr(String key) {
        Object v = attributes.get(key);
        if (!(v instanceof Double)) {
            throw new AssertionError("expected a double attribute " + key + " but got " + describe(v) + " in " + this);
        }
        return (Double) v;
    }

    /** Whether this span is about the connection from the client's ephemeral port. */
    public boolean isConnectionOf(SlowClient client) {
        return has(Contract.PEER_PORT, (long) client.localPort());
    }

    public Status.StatusCode statusCode() {
        return span.getStatus().getCode();
    }

    public long durationNanos() {
        return span.getEndTimeUnixNano() - span.getStartTimeUnixNano();
    }

    public List<String> eventNames() {
        return span.getEventsList().stream().map(Span.Event::getName).collect(Collectors.toList());
    }

    private static String describe(Object v) {
        return v == null ? "nothing" : v.getClass().getSimpleName() + " " + v;
    }

    @Override
    public String toString() {
        return "#" + batch + " span '" + span.getName() + "' " + span.getKind() + " " + attributes + " status "
                + span.getStatus().getCode()
                + (span.getStatus().getMessage().isEmpty() ? "" : " '" + span.getStatus().getMessage() + "'")
                + " events " + eventNames() + " duration " + durationNanos() / 1_000_000 + " ms";
    }
}

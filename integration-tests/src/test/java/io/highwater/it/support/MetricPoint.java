package io.highwater.it.support;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One OTLP metric data point, flattened with everything around it (batch, resource, scope, metric) so that tests
 * can filter a single list. Immutable.
 *
 * <p>Attribute values keep their OTLP type: {@code string_value} becomes {@link String}, {@code int_value}
 * {@link Long}, {@code double_value} {@link Double}, {@code bool_value} {@link Boolean}, arrays {@link List},
 * key-value lists {@link Map}. So {@code network.peer.port} sent as an int compares equal to {@code 4711L}, and one
 * sent as the string {@code "4711"} does not.
 *
 * @param batch         index of the export request it came in, in arrival order from 0
 * @param resource      the resource's attributes
 * @param scopeName     instrumentation scope name
 * @param scopeVersion  instrumentation scope version ("" when absent)
 * @param metric        metric name
 * @param unit          metric unit ("" when absent)
 * @param kind          which OTLP data field the metric used
 * @param monotonic     for {@link Kind#SUM}: {@code is_monotonic}; false otherwise
 * @param temporality   for sums and histograms: the aggregation temporality; UNSPECIFIED otherwise
 * @param attributes    the data point's attributes
 * @param value         {@link Long} for {@code as_int}, {@link Double} for {@code as_double}; for histograms the
 *                      count as a {@link Long}; null for a number point without a value
 * @param timeUnixNano  the data point's time
 * @param histogramSum  for histograms: the sum of the recorded values (null when absent); null otherwise
 */
public record MetricPoint(
        int batch,
        Map<String, Object> resource,
        String scopeName,
        String scopeVersion,
        String metric,
        String unit,
        Kind kind,
        boolean monotonic,
        AggregationTemporality temporality,
        Map<String, Object> attributes,
        Number value,
        long timeUnixNano,
        Double histogramSum) {

    /** The OTLP {@code Metric.data} case. */
    public enum Kind { GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY, NONE }

    public MetricPoint {
        resource = Collections.unmodifiableMap(new LinkedHashMap<>(resource));
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /** The histogram's sum; fails for anything else. */
    public double sum() {
        if (histogramSum == null) {
            throw new AssertionError("expected a histogram point with a sum but got " + this);
        }
        return histogramSum;
    }

    public Object attr(String key) {
        return attributes.get(key);
    }

    /** True when the attribute is present with exactly this value (mind the type, see the class comment). */
    public boolean has(String key, Object expected) {
        return Objects.equals(attributes.get(key), expected);
    }

    public boolean isInt() {
        return value instanceof Long;
    }

    public long longValue() {
        if (!(value instanceof Long)) {
            throw new AssertionError("expected an as_int value but got " + describeValue() + " in " + this);
        }
        return value.longValue();
    }

    /** The value as a double, whether it came as {@code as_int} or {@code as_double}. */
    public double doubleValue() {
        if (value == null) {
            throw new AssertionError("data point without a value: " + this);
        }
        return value.doubleValue();
    }

    /** Series identity: resource, scope and attributes (the metric name is compared separately). */
    public List<Object> seriesKey() {
        List<Object> key = new ArrayList<>(4);
        key.add(metric);
        key.add(resource);
        key.add(scopeName);
        key.add(attributes);
        return key;
    }

    private String describeValue() {
        return value == null ? "no value" : value.getClass().getSimpleName() + " " + value;
    }

    @Override
    public String toString() {
        return "#" + batch + " " + metric + "{" + attributes + "} " + kind
                + (kind == Kind.SUM ? (monotonic ? " monotonic" : " non-monotonic") + " " + temporality : "")
                + " = " + describeValue() + (histogramSum == null ? "" : " sum " + histogramSum) + (unit.isEmpty() ? "" : " [" + unit + "]");
    }

    public static Map<String, Object> toMap(List<KeyValue> kvs) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (KeyValue kv : kvs) {
            out.put(kv.getKey(), toJava(kv.getValue()));
        }
        return out;
    }

    static Object toJava(AnyValue v) {
        switch (v.getValueCase()) {
            case STRING_VALUE:
                return v.getStringValue();
            case INT_VALUE:
                return v.getIntValue();
            case DOUBLE_VALUE:
                return v.getDoubleValue();
            case BOOL_VALUE:
                return v.getBoolValue();
            case BYTES_VALUE:
                return v.getBytesValue();
            case ARRAY_VALUE: {
                List<Object> list = new ArrayList<>();
                for (AnyValue item : v.getArrayValue().getValuesList()) {
                    list.add(toJava(item));
                }
                return Collections.unmodifiableList(list);
            }
            case KVLIST_VALUE:
                return Collections.unmodifiableMap(toMap(v.getKvlistValue().getValuesList()));
            default:
                return null;
        }
    }
}

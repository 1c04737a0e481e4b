package io.highwater.telemetry;

import io.highwater.base.Log;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;

import java.net.URI;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the agent reads the standard {@code otel.*} / {@code OTEL_*} settings. The host application may set them
 * for its own SDK, so values this agent cannot honour (an exporter it does not bundle, gRPC, a sampler meant for
 * the host, the SDK switched off) are replaced with one log line each; {@code highwater.otel.*} always wins.
 */
final class OtelSettings {

    static final String DEFAULT_INTERVAL = "10s";
    private static final List<String> PROTOCOL_KEYS =
            Arrays.asList("otel.exporter.otlp.protocol", "otel.exporter.otlp.metrics.protocol",
                    "otel.exporter.otlp.traces.protocol");

    private OtelSettings() {
    }

    /** The lowest-precedence defaults, used where neither the host nor highwater set a value. */
    static Map<String, String> defaults() {
        Map<String, String> d = new HashMap<>();
        d.put("otel.exporter.otlp.protocol", "http/protobuf");
        d.put("otel.metric.export.interval", DEFAULT_INTERVAL);
        return d;
    }

    /** Overrides applied on top of everything autoconfigure read from the host. */
    static Map<String, String> overrides(ConfigProperties config, Map<String, String> highwater) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String signal : Arrays.asList("metrics", "traces")) {
            String key = "otel." + signal + ".exporter";
            String value = config.getString(key, "otlp").trim().toLowerCase(Locale.ROOT);
            // "none" too: a host that runs the OpenTelemetry Java agent commonly switches that agent's metrics off
            // this way, and highwater must not go silent with it; highwater.otel.* still switches highwater's off
            if (!value.equals("otlp")) {
                boolean listsOtlp = Arrays.asList(value.split("\\s*,\\s*")).contains("otlp");
                if (!listsOtlp) {
                    Log.info(key + "=" + value + " is meant for the application's own SDK: highwater exports with"
                            + " otlp (set highwater." + key + " to change that)");
                }
                out.put(key, "otlp");
            }
        }
        for (String key : PROTOCOL_KEYS) {
            String p = config.getString(key);
            if (p != null && !p.trim().equals("http/protobuf")) {
                Log.info(key + "=" + p + " is not supported by this build (JDK HTTP sender): exporting with"
                        + " http/protobuf");
                out.put(key, "http/protobuf");
            }
        }
        // the agent emits no logs
        out.put("otel.logs.exporter", "none");
        // a host that switches its own SDK off, or samples its own traces, does not switch highwater off;
        // episode spans are rate-limited by the agent itself
        out.put("otel.sdk.disabled", "false");
        out.put("otel.traces.sampler", "always_on");
        // the drain-wait histogram is recorded at every go signal, on the host's event loop (a respecting stream
        // crosses its water marks ~100,000 times per GiB); a trace-based exemplar filter would look up the current
        // context at each of them, for exemplars that no dashboard of this project reads
        out.put("otel.metrics.exemplar.filter", "always_off");
        // the exporters pool their request marshalers: an export needs less heap, also when the host's heap is
        // nearly full (the agent makes one export per signal at a time, which this mode requires); collections stay
        // immutable (MetricShipper#getMemoryMode)
        out.put(MEMORY_MODE, "reusable_data");
        out.putAll(highwater);
        return out;
    }

    static final String MEMORY_MODE = "otel.java.exporter.memory_mode";
    static final String TRACES_EXPORTER = "otel.traces.exporter";

    /**
     * Whether episode spans are exported, after {@link #overrides}: unless {@code otel.traces.exporter} is
     * {@code none}. The agent exports them with a processor of its own ({@link SpanShipper}), so the SDK is then
     * told {@code none} itself.
     */
    static boolean spansWanted(ConfigProperties config, Map<String, String> overrides) {
        String value = overrides.containsKey(TRACES_EXPORTER) ? overrides.get(TRACES_EXPORTER)
                : config.getString(TRACES_EXPORTER, "otlp");
        return !"none".equals(value.trim().toLowerCase(Locale.ROOT));
    }

    /** Where metrics go, for the start-up line; user info in the URL is masked, headers are never shown. */
    static String metricsEndpoint(ConfigProperties config) {
        return mask(endpoint(config, "metrics"));
    }

    /** Where {@code signal} ({@code metrics}, {@code traces}) goes, as the OTLP http exporter makes it; unmasked. */
    static String endpoint(ConfigProperties config, String signal) {
        String own = config.getString("otel.exporter.otlp." + signal + ".endpoint");
        if (own != null) {
            return own;
        }
        String base = config.getString("otel.exporter.otlp.endpoint", "http://localhost:4318");
        return base.endsWith("/") ? base + "v1/" + signal : base + "/v1/" + signal;
    }

    static String mask(String url) {
        try {
            URI u = URI.create(url);
            if (u.getRawUserInfo() != null) {
                return url.replace(u.getRawUserInfo() + "@", "***@");
            }
            return url;
        } catch (IllegalArgumentException e) {
            return "(an endpoint that is not a valid URL)";
        }
    }
}

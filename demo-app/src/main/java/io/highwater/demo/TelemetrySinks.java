package io.highwater.demo;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Where the agent's telemetry goes while the demo runs: the embedded OTLP receiver behind the {@link LiveView}, a
 * collector that gets every OTLP request too ({@link CollectorTee}), a Prometheus whose alerts the view shows
 * ({@link PrometheusAlerts}). Each is optional: there is no view without the agent or with {@code --no-view}, and a
 * collector or Prometheus not asked for is used when it answers a probe at its default address.
 */
final class TelemetrySinks {
    static final String DEFAULT_COLLECTOR = "http://127.0.0.1:4318";
    static final String DEFAULT_PROMETHEUS = "http://127.0.0.1:9090";
    private static final int PROBE_MILLIS = 300;

    /** What the receiver decoded: the view's and the summary's numbers. */
    final AgentTelemetry telemetry = new AgentTelemetry();
    private final ScenarioOptions options;
    private final Narrator narrator;
    /** The collector to forward to, or null. */
    private final String collectorUrl;
    private CollectorTee tee;
    private OtlpReceiver receiver;
    private PrometheusAlerts alerts;
    private LiveView view;

    private TelemetrySinks(ScenarioOptions options, Narrator narrator) {
        this.options = options;
        this.narrator = narrator;
        this.collectorUrl = urlOrNull(options.collector, DEFAULT_COLLECTOR,
                () -> CollectorTee.reachable(DEFAULT_COLLECTOR, PROBE_MILLIS));
    }

    /** Starts the receiver and the view (unless they are off) and connects to a collector and a Prometheus. */
    static TelemetrySinks open(ScenarioOptions options, Narrator narrator) throws IOException {
        TelemetrySinks sinks = new TelemetrySinks(options, narrator);
        try {
            sinks.connect();
        } catch (IOException e) {
            sinks.close();
            throw e;
        }
        return sinks;
    }

    private void connect() throws IOException {
        String prometheusUrl = urlOrNull(options.prometheus, DEFAULT_PROMETHEUS,
                () -> PrometheusAlerts.reachable(DEFAULT_PROMETHEUS, PROBE_MILLIS));
        if (options.withView) {
            if (collectorUrl != null) {
                tee = new CollectorTee(collectorUrl, narrator::say);
            }
            receiver = OtlpReceiver.start(telemetry, received -> {
                LiveView v = view;
                if (v != null) {
                    v.spans(received);
                }
            }, tee, narrator::say);
            view = new LiveView(narrator.out(), LiveView.detect(options.plainView), telemetry, options.viewNanos,
                    receiver.endpoint());
            narrator.view(view);
        }
        if (prometheusUrl != null) {
            alerts = new PrometheusAlerts(prometheusUrl, narrator::say);
            if (view != null) {
                view.alerts(alerts);
            }
        }
    }

    /** The URL asked for ({@code none} or {@code off}: null), else the default when it answers, else null. */
    private static String urlOrNull(String asked, String fallback, BooleanSupplier answers) {
        String url = asked != null ? asked : answers.getAsBoolean() ? fallback : null;
        return url == null || url.isEmpty() || "none".equalsIgnoreCase(url) || "off".equalsIgnoreCase(url) ? null
                : url;
    }

    /** The live view, or null when it is off. */
    LiveView view() {
        return view;
    }

    /** The agent's options: its service name, where it exports and how often, its console summary, and the user's. */
    String agentOptions() {
        String agentOptions = "otel.service.name=highwater-demo";
        if (receiver != null) {
            agentOptions += ";otel.exporter.otlp.endpoint=" + receiver.endpoint() + ";otel.metric.export.interval="
                    + options.exportInterval + ";otel.bsp.schedule.delay=500ms";
        } else if (options.collector != null && collectorUrl != null) {
            agentOptions += ";otel.exporter.otlp.endpoint=" + collectorUrl;
        }
        if (options.agentConsole) {
            agentOptions += ";console=true;console.interval=" + options.consoleInterval;
        }
        if (!options.agentOptions.isEmpty()) {
            agentOptions += ";" + options.agentOptions;
            if (receiver != null && options.agentOptions.contains("otel.exporter.otlp")) {
                narrator.say("scenario: --agent-options sets an OTLP endpoint: the live view shows only what the agent"
                        + " still sends to " + receiver.endpoint() + " (use --collector URL to forward to a"
                        + " collector)");
            }
        }
        return agentOptions;
    }

    /** The introduction's lines about the view, the collector and Prometheus. */
    void intro() {
        if (view != null) {
            narrator.say("  the live view shows what the agent exports over OTLP to this demo (" + receiver.endpoint()
                    + ", every " + options.exportInterval + ")" + (view.mode() == LiveView.Mode.IN_PLACE
                    ? ", refreshed in place" : ", as [view] lines every " + Units.seconds(options.viewNanos))
                    + "; [span] lines are the agent's episode spans as they arrive.");
        }
        if (tee != null) {
            narrator.say("  an OpenTelemetry Collector at " + tee.base()
                    + (options.collector != null ? "" : " answered") + ": every OTLP request of the agent is forwarded"
                    + " to it unchanged.");
        } else if (view != null) {
            narrator.say("  no collector at " + DEFAULT_COLLECTOR + " (otel-collector/run.sh starts one; or --collector"
                    + " URL): the telemetry stays in this view.");
        }
        if (alerts != null) {
            narrator.say("  Prometheus at " + alerts.base() + ": the alerts are at " + alerts.base() + "/alerts, the"
                    + " numbers at " + alerts.base() + "/graph?g0.expr=backpressure_pending_bytes"
                    + (view != null ? "; the view shows which alerts are pending or firing." : "."));
        }
    }

    /** Once the service listens: the view starts drawing, Prometheus is asked for its alerts. */
    void start() {
        if (alerts != null) {
            alerts.start(TimeUnit.SECONDS.toNanos(3));
        }
        if (view != null) {
            view.start();
        }
    }

    /** The view draws its last block; the lines after it go straight to stdout. */
    void finish() {
        if (view != null) {
            view.finish();
        }
    }

    /** After the service stopped: forwards what is left to the collector, says what went where, and closes. */
    void close() {
        if (tee != null) {
            tee.drain(2000);
            if (tee.forwarded.get() + tee.failed.get() + tee.dropped.get() > 0) {
                narrator.say("  collector " + tee.base() + ": " + tee.forwarded.get() + " OTLP requests forwarded"
                        + (tee.failed.get() > 0 ? ", " + tee.failed.get() + " failed" : "")
                        + (tee.dropped.get() > 0 ? ", " + tee.dropped.get() + " dropped (collector too slow)" : ""));
            }
        }
        if (alerts != null) {
            narrator.say("  Prometheus: " + alerts.base() + "/alerts"
                    + (alerts.states().isEmpty() ? "" : " (last seen: " + alerts.states() + ")"));
        }
        if (receiver != null) {
            receiver.close();
        }
        if (tee != null) {
            tee.close();
        }
        if (alerts != null) {
            alerts.close();
        }
    }
}

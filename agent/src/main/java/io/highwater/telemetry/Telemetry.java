package io.highwater.telemetry;

import io.highwater.base.AgentTimer;
import io.highwater.base.Log;
import io.highwater.core.CallSite;
import io.highwater.core.DropKind;
import io.highwater.core.KernelSendQueues;
import io.highwater.core.Layer;
import io.highwater.core.Monitor;
import io.highwater.core.RateLimiter;
import io.highwater.core.Signal;
import io.highwater.core.Snapshot;
import io.highwater.core.TrackedConnection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleMeasurement;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.export.SpanExporter;

import java.net.URI;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The agent's OpenTelemetry SDK (relocated, private to the agent, never registered as the global instance)
 * and the instruments of the metric contract. Every instrument is asynchronous: values are read from the
 * monitor and from the transports' own accounting when the SDK collects, so no write path ever touches the SDK.
 */
public final class Telemetry implements AutoCloseable {

    /** The instrumentation scope of everything the agent exports. */
    static final String SCOPE = "highwater";
    static final AttributeKey<String> LAYER = AttributeKey.stringKey("backpressure.layer");
    static final AttributeKey<String> SIGNAL = AttributeKey.stringKey("backpressure.signal");
    static final AttributeKey<String> FUNCTION = AttributeKey.stringKey("code.function.name");
    static final AttributeKey<String> PEER_ADDRESS = AttributeKey.stringKey("network.peer.address");
    static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
    static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
    static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
    static final AttributeKey<Long> PEER_PORT = AttributeKey.longKey("network.peer.port");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<String> MEMORY_KIND = AttributeKey.stringKey("backpressure.memory.kind");
    static final AttributeKey<String> DROPPED_KIND = AttributeKey.stringKey("backpressure.dropped.kind");
    static final AttributeKey<String> GUARD_ACTION = AttributeKey.stringKey("backpressure.guard.action");
    static final AttributeKey<String> GUARD_REASON = AttributeKey.stringKey("backpressure.guard.reason");
    static final AttributeKey<Boolean> GUARD_ENFORCED = AttributeKey.booleanKey("backpressure.guard.enforced");
    static final AttributeKey<String> SERVICE_INSTANCE_ID = AttributeKey.stringKey("service.instance.id");

    /** 1 ms to 5 min: a hiccup, a slow phone, a stalled reader. */
    static final List<Double> DRAIN_WAIT_BUCKETS = Collections.unmodifiableList(Arrays.asList(
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0));
    /*
     * By layer index. Every ended wait's record reads one (a stream channel over h2c ends ~18,000 waits a second): an
     * array read, where a map's look-up went through a megamorphic equals (JFR, docs/benchmark-journal.md).
     */
    private static final AtomicReferenceArray<Attributes> LAYER_ATTRIBUTES = new AtomicReferenceArray<>(Layer.MAX);

    private final OpenTelemetrySdk sdk;
    private final String endpoint;
    private final String interval;
    private final Map<CallSite, Attributes> siteAttributes = new ConcurrentHashMap<>();

    private final ExportStatus status;
    private final long closeBudgetMillis;

    private Telemetry(OpenTelemetrySdk sdk, String endpoint, String interval, ExportStatus status,
                      long closeBudgetMillis) {
        this.sdk = sdk;
        this.endpoint = endpoint;
        this.interval = interval;
        this.status = status;
        this.closeBudgetMillis = closeBudgetMillis;
    }

    /**
     * Builds the SDK from the standard settings, registers the instruments and starts exporting on {@code timer}:
     * the first metrics export at once, so that everything an export needs is loaded while memory is plentiful.
     * Metrics are read by {@link MetricShipper} and spans exported by {@link SpanShipper}, both on {@code timer},
     * in place of the SDK's reader and batch processor, which do not survive an {@link OutOfMemoryError}.
     *
     * @param layers the layers that are instrumented: their totals are exported from the start, at 0, so
     *               that rates and increases see the first change
     * @param status where the exports report how they fare; it outlives a failed build, so a retry reports there too
     * @throws Throwable whatever the build threw (an {@link OutOfMemoryError} among them); nothing is left running
     */
    public static Telemetry start(Map<String, String> highwaterOtel, String version, Monitor monitor,
                                  Set<Layer> layers, int topN, MemoryLimits limits, SpanSettings spans,
                                  long closeBudgetMillis, ExportStatus status, AgentTimer timer) {
        // first, while the heap has room for it: an SDK that cannot report a crisis is not worth building in one
        status.reserve().take();
        ExportStatus.makeCurrent(status);
        status.timer(timer);
        Built built = new Built();
        try {
            OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                    .setServiceClassLoader(Telemetry.class.getClassLoader())
                    .disableShutdownHook()
                    .addPropertiesSupplier(OtelSettings::defaults)
                    .addPropertiesCustomizer(config -> {
                        Map<String, String> out = OtelSettings.overrides(config, highwaterOtel);
                        built.spansWanted = OtelSettings.spansWanted(config, out);
                        out.put(OtelSettings.TRACES_EXPORTER, "none");
                        return out;
                    })
                    .addResourceCustomizer(Telemetry::withInstanceId)
                    .addMetricExporterCustomizer((exporter, config) -> {
                        built.endpoint = OtelSettings.metricsEndpoint(config);
                        built.metricExporter = new OwnScopeExporter(exporter);
                        return built.metricExporter;
                    })
                    .addMetricReaderCustomizer((reader, config) -> {
                        java.time.Duration every = config.getDuration("otel.metric.export.interval");
                        built.interval = every == null ? OtelSettings.DEFAULT_INTERVAL
                                : io.highwater.config.Settings.format(every);
                        // the SDK's own reader is dropped before it ever started its thread
                        built.metrics = new MetricShipper(built.metricExporter,
                                (every == null ? java.time.Duration.ofSeconds(10) : every).toNanos(), status,
                                status.target(ExportStatus.Signal.METRICS,
                                        URI.create(OtelSettings.endpoint(config, "metrics"))));
                        return built.metrics;
                    })
                    .addTracerProviderCustomizer((builder, config) -> {
                        if (built.spansWanted) {
                            built.spanExporter = otlpSpanExporter(config);
                            built.spans = new SpanShipper(built.spanExporter, status,
                                    status.target(ExportStatus.Signal.SPANS,
                                            URI.create(OtelSettings.endpoint(config, "traces"))),
                                    monitor.droppedCounter(),
                                    config.getInt("otel.bsp.max.queue.size", 2048),
                                    config.getInt("otel.bsp.max.export.batch.size", 512),
                                    config.getDuration("otel.bsp.schedule.delay",
                                            java.time.Duration.ofSeconds(5)).toNanos(),
                                    TimeUnit.MILLISECONDS.toNanos(Math.max(1, closeBudgetMillis)));
                            builder.addSpanProcessor(built.spans);
                        }
                        return builder;
                    })
                    .build()
                    .getOpenTelemetrySdk();
            Telemetry t = new Telemetry(sdk, built.endpoint == null ? "nowhere (otel.metrics.exporter=none)"
                    : built.endpoint, built.interval, status, closeBudgetMillis);
            t.register(version, monitor, layers, topN, limits);
            monitor.attachEpisodes(new EpisodeSpans(
                    sdk.getTracerProvider().tracerBuilder(SCOPE).setInstrumentationVersion(version).build(),
                    new RateLimiter(spans.perSecond, monitor.clock()), monitor.droppedCounter(),
                    spans.minDurationNanos, monitor.clock()));
            if (built.spans != null) {
                SpanExportClasses.preload(Telemetry.class.getClassLoader());
            }
            if (built.metrics != null) {
                built.metrics.start(timer);
            }
            if (built.spans != null) {
                built.spans.start(timer);
            }
            return t;
        } catch (Throwable e) {
            built.abandon();
            throw e;
        }
    }

    /** What the build made along the way: to use when it succeeds, to shut down when it does not. */
    private static final class Built {
        volatile boolean spansWanted;
        String endpoint;
        String interval;
        OwnScopeExporter metricExporter;
        MetricShipper metrics;
        SpanExporter spanExporter;
        SpanShipper spans;

        void abandon() {
            try {
                if (metricExporter != null) {
                    metricExporter.shutdown();
                }
                if (spanExporter != null) {
                    spanExporter.shutdown();
                }
            } catch (Throwable ignored) {
                // best effort: the build failed already, and that failure is what gets reported
            }
        }
    }

    /** The OTLP span exporter exactly as autoconfigure would make it, through the same provider. */
    private static SpanExporter otlpSpanExporter(ConfigProperties config) {
        for (ConfigurableSpanExporterProvider p : ServiceLoader.load(ConfigurableSpanExporterProvider.class,
                Telemetry.class.getClassLoader())) {
            if ("otlp".equals(p.getName())) {
                return p.createExporter(config);
            }
        }
        throw new IllegalStateException("no OTLP span exporter in the agent jar");
    }

    /** {@code highwater.spans.*}: which episodes become spans, and how many per second at most. */
    public static final class SpanSettings {
        final int perSecond;
        final long minDurationNanos;

        public SpanSettings(int perSecond, long minDurationNanos) {
            this.perSecond = perSecond;
            this.minDurationNanos = minDurationNanos;
        }
    }

    private static Resource withInstanceId(Resource resource, ConfigProperties config) {
        if (resource.getAttribute(SERVICE_INSTANCE_ID) != null) {
            return resource;
        }
        // without it every replica of a service would land on the same Prometheus instance
        return resource.merge(Resource.create(Attributes.of(SERVICE_INSTANCE_ID, UUID.randomUUID().toString())));
    }

    private void register(String version, Monitor monitor, Set<Layer> layers, int topN, MemoryLimits limits) {
        Meter meter = sdk.getMeterProvider().meterBuilder(SCOPE).setInstrumentationVersion(version).build();

        meter.counterBuilder("backpressure.ignored.writes").setUnit("{write}")
                .setDescription("Writes made after the transport said stop, beyond the tolerance, by call site")
                .buildWithCallback(m -> {
                    for (CallSite site : monitor.callSites().all()) {
                        m.record(site.writes(), siteAttributes.computeIfAbsent(site, Telemetry::attributesOf));
                    }
                });
        meter.counterBuilder("backpressure.ignored.bytes").setUnit("By")
                .setDescription("Bytes of writes made after the transport said stop, beyond the tolerance")
                .buildWithCallback(m -> {
                    for (Signal s : Signal.all()) {
                        if (layers.contains(s.layer())) {
                            m.record(monitor.ignoredBytes(s), Attributes.of(LAYER, s.layer().id(), SIGNAL, s.id()));
                        }
                    }
                });
        meter.counterBuilder("backpressure.agent.dropped").setUnit("{item}")
                .setDescription("Items the agent dropped because a cap was reached")
                .buildWithCallback(m -> {
                    for (DropKind k : DropKind.values()) {
                        m.record(monitor.dropped().get(k), Attributes.of(DROPPED_KIND, k.id()));
                    }
                });
        io.highwater.core.GuardCounts guard = monitor.guardCounts();
        if (guard != null) {
            // only when the guard is on (observe or enforce): off builds nothing of it
            meter.counterBuilder("backpressure.guard.actions").setUnit("{action}")
                    .setDescription("Connections the guard closed or failed writes of (enforced), or would have"
                            + " (observe), by layer, action and reason")
                    .buildWithCallback(m -> guard.forEach((layer, action, reason, enforced, n) ->
                            m.record(n, Attributes.of(LAYER, layer.id(), GUARD_ACTION, action, GUARD_REASON, reason,
                                    GUARD_ENFORCED, enforced))));
        }
        meter.gaugeBuilder("backpressure.memory.limit").ofLongs().setUnit("By")
                .setDescription("The JVM's own limits, to compare pending bytes against")
                .buildWithCallback(m -> {
                    m.record(limits.maxHeap(), Attributes.of(MEMORY_KIND, "heap"));
                    m.record(limits.maxDirect(), Attributes.of(MEMORY_KIND, "direct"));
                });

        meter.counterBuilder("backpressure.drain.stalls").setUnit("{stall}")
                .setDescription("Waits in which nothing drained for longer than the stall threshold (slow-read attack)")
                .buildWithCallback(m -> {
                    for (Layer layer : layers) {
                        m.record(monitor.stalls(layer), layerAttributes(layer));
                    }
                });
        DoubleHistogram drainWait = meter.histogramBuilder("backpressure.drain.wait").setUnit("s")
                .setDescription("How long writers waited for a stop signal to turn into go, per ended wait")
                .setExplicitBucketBoundariesAdvice(DRAIN_WAIT_BUCKETS)
                .build();
        // the root context given, not looked up: no exemplars are kept (OtelSettings), and the agent's shaded context
        // is never the application's, so the look-up (a thread-local read per ended wait) could only find the root
        monitor.attachDrainWaits((layer, seconds) -> drainWait.record(seconds, layerAttributes(layer), Context.root()));

        ObservableLongMeasurement blocked = meter.gaugeBuilder("backpressure.connections.blocked").ofLongs()
                .setUnit("{connection}")
                .setDescription("Connections in a stop state right now")
                .buildObserver();
        ObservableDoubleMeasurement oldestWait = meter.gaugeBuilder("backpressure.drain.oldest_wait").setUnit("s")
                .setDescription("How long the longest still-running wait has lasted")
                .buildObserver();
        ObservableLongMeasurement pending = meter.gaugeBuilder("backpressure.pending.bytes").ofLongs().setUnit("By")
                .setDescription("Bytes queued in the process for connections under pressure")
                .buildObserver();
        ObservableLongMeasurement items = meter.gaugeBuilder("backpressure.pending.items").ofLongs().setUnit("{item}")
                .setDescription("Elements that are not bytes queued in the process for connections under pressure")
                .buildObserver();
        ObservableLongMeasurement perConnection = meter.gaugeBuilder("backpressure.connection.pending.bytes").ofLongs()
                .setUnit("By")
                .setDescription("Bytes queued in the process for the top connections, per layer that holds them")
                .buildObserver();
        ObservableLongMeasurement perConnectionTotal = meter.gaugeBuilder("backpressure.connection.total_pending.bytes")
                .ofLongs().setUnit("By")
                .setDescription("Bytes queued in the process for the top connections, all layers together")
                .buildObserver();
        KernelSendQueues kernel = KernelSendQueues.linux();
        monitor.attachKernelQueues(kernel);
        if (kernel == null) {
            Log.info("no /proc/net/tcp here: backpressure.kernel.queued.bytes is not exported");
        }
        ObservableLongMeasurement kernelQueued = meter.gaugeBuilder("backpressure.kernel.queued.bytes").ofLongs()
                .setUnit("By")
                .setDescription("Bytes in the kernel's send queue (not yet acknowledged by the peer) of the top connections")
                .buildObserver();
        ObservableLongMeasurement perStream = meter.gaugeBuilder("backpressure.stream.pending.bytes").ofLongs()
                .setUnit("By")
                .setDescription("Bytes queued in the process for the top streams of multiplexed connections"
                        + " (HTTP/2 streams, gRPC calls)")
                .buildObserver();
        ObservableLongMeasurement connectionWindow = meter.gaugeBuilder("backpressure.http2.connection.window").ofLongs()
                .setUnit("By")
                .setDescription("HTTP/2 connection-level flow-control window left (what the peer lets all streams"
                        + " together still send; 0: every stream of the connection waits) of the top connections")
                .buildObserver();
        meter.batchCallback(() -> {
            Snapshot s = Snapshot.take(monitor, topN, monitor.clock().nanoTime());
            for (Snapshot.StreamEntry e : s.topStreams()) {
                perStream.record(e.pendingBytes, streamAttributes(e.stream));
            }
            for (Layer layer : layers) {
                Attributes a = layerAttributes(layer);
                pending.record(s.pendingBytes(layer), a);
                items.record(s.pendingItems(layer), a);
                blocked.record(s.blocked(layer), a);
                oldestWait.record(s.oldestWaitNanos(layer) / 1e9, a);
            }
            List<TrackedConnection> top = new java.util.ArrayList<>();
            for (Snapshot.Entry e : s.top()) {
                for (Snapshot.Share share : e.shares) {
                    perConnection.record(share.pendingBytes, connectionAttributes(e.connection, share.layer));
                }
                perConnectionTotal.record(e.pendingBytes, peerAttributes(e.connection).build());
                if (e.connectionWindow >= 0) {
                    connectionWindow.record(e.connectionWindow, peerAttributes(e.connection).build());
                }
                top.add(e.connection);
            }
            if (kernel != null && !top.isEmpty()) {
                for (Map.Entry<TrackedConnection, Long> q : kernel.read(top).entrySet()) {
                    kernelQueued.record(q.getValue(), connectionAttributes(q.getKey()));
                }
            }
        }, pending, items, perConnection, perConnectionTotal, blocked, oldestWait, kernelQueued, perStream,
                connectionWindow);
    }

    private static Attributes layerAttributes(Layer layer) {
        Attributes a = LAYER_ATTRIBUTES.getAcquire(layer.index());
        if (a == null) {
            // built once per layer; a race builds two equal ones, either is fine
            a = Attributes.of(LAYER, layer.id());
            LAYER_ATTRIBUTES.setRelease(layer.index(), a);
        }
        return a;
    }

    private static Attributes attributesOf(CallSite site) {
        return Attributes.of(LAYER, site.signal().layer().id(), SIGNAL, site.signal().id(), FUNCTION, site.function());
    }

    static Attributes connectionAttributes(TrackedConnection c) {
        return connectionAttributes(c, c.layer());
    }

    static Attributes connectionAttributes(TrackedConnection c, Layer layer) {
        return peerAttributes(c).put(LAYER, layer.id()).build();
    }

    /** A stream of the top N: its layer, its name ({@code url.path} or {@code rpc.*}) and its connection's peer. */
    static Attributes streamAttributes(TrackedConnection c) {
        io.opentelemetry.api.common.AttributesBuilder b = peerAttributes(c).put(LAYER, c.layer().id());
        putStream(b, c.stream());
        return b.build();
    }

    /** {@code url.path}, or {@code rpc.system}, {@code rpc.service} and {@code rpc.method}; nothing for null. */
    static void putStream(io.opentelemetry.api.common.AttributesBuilder b, io.highwater.core.StreamName name) {
        if (name == null) {
            return;
        }
        if (name.isRpc()) {
            b.put(RPC_SYSTEM, "grpc").put(RPC_SERVICE, name.rpcService).put(RPC_METHOD, name.rpcMethod);
        } else {
            b.put(URL_PATH, name.urlPath);
        }
    }

    /** What names a connection: its peer and the server port, without a layer. */
    static io.opentelemetry.api.common.AttributesBuilder peerAttributes(TrackedConnection c) {
        io.opentelemetry.api.common.AttributesBuilder b = Attributes.builder();
        if (c.peerAddress() != null) {
            b.put(PEER_ADDRESS, c.peerAddress());
        }
        if (c.peerPort() >= 0) {
            b.put(PEER_PORT, c.peerPort());
        }
        if (c.serverPort() >= 0) {
            b.put(SERVER_PORT, c.serverPort());
        }
        return b;
    }

    public String endpoint() {
        return endpoint;
    }

    public String interval() {
        return interval;
    }

    /** Where metrics go and how often, for the start-up line (no interval when nothing is exported). */
    public String exportsTo() {
        return interval == null ? endpoint : endpoint + " every " + interval;
    }

    public ExportStatus status() {
        return status;
    }

    /**
     * Exports what is left, then stops the SDK's threads. The SDK's own shutdown waits for an export that may
     * retry for the exporter's whole timeout, so it runs on a daemon thread and this returns after the close
     * budget ({@code highwater.shutdown.timeout}) at the latest, at once when the collector is known to be down.
     */
    @Override
    public void close() {
        close(true);
    }

    /** @param flush false when there is nothing worth a last export (no connection ever hit a stop signal) */
    public void close(boolean flush) {
        boolean unreachable = !flush || status.failing();
        status.closing();
        long budget = unreachable ? 0 : closeBudgetMillis;
        Thread last = new Thread(() -> {
            try {
                sdk.getSdkTracerProvider().forceFlush();
                sdk.getSdkMeterProvider().forceFlush().join(Math.max(1, budget), TimeUnit.MILLISECONDS);
                sdk.shutdown();
            } catch (RuntimeException e) {
                Log.once("shutdown", "telemetry shutdown: " + e);
            }
        }, "highwater-final-export");
        last.setDaemon(true);
        last.start();
        try {
            last.join(Math.max(1, budget));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

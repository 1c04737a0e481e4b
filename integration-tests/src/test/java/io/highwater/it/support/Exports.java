package io.highwater.it.support;

import java.util.List;
import java.util.function.Predicate;

import static io.highwater.it.support.Contract.CHANNEL_UNWRITABLE;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_BYTES;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.NETTY;
import static io.highwater.it.support.Contract.PEER_ADDRESS;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SIGNAL;
import static org.assertj.core.api.Assertions.assertThat;

/** Conditions and checks on what the agent exported, shared by the agent tests. */
public final class Exports {

    private Exports() {
    }

    public static Predicate<MetricPoint> metric(String name) {
        return p -> p.metric().equals(name);
    }

    /** A point of {@code metric} on the Netty layer (the layer-level gauges, counters and histogram). */
    public static Predicate<MetricPoint> netty(String metric) {
        return metric(metric).and(p -> p.has(LAYER, NETTY));
    }

    /** A number point's value equal to {@code expected} (as_int or as_double). */
    public static Predicate<MetricPoint> valueIs(double expected) {
        return p -> p.value() != null && p.doubleValue() == expected;
    }

    /** A point that came in batch {@code batch} or later. */
    public static Predicate<MetricPoint> fromBatch(int batch) {
        return p -> p.batch() >= batch;
    }

    /** A point of {@code backpressure.ignored.writes} from Netty's unwritable signal, made by {@code function}. */
    public static Predicate<MetricPoint> nettyIgnoredWrites(String function) {
        return metric(IGNORED_WRITES).and(p -> p.has(LAYER, NETTY) && p.has(SIGNAL, CHANNEL_UNWRITABLE)
                && p.has(FUNCTION, function));
    }

    public static Predicate<MetricPoint> nettyIgnoredBytes() {
        return metric(IGNORED_BYTES).and(p -> p.has(LAYER, NETTY) && p.has(SIGNAL, CHANNEL_UNWRITABLE));
    }

    /**
     * A {@code backpressure.connection.pending.bytes} point of one connection: Netty layer, the client's address
     * 127.0.0.1 and its ephemeral port as {@code network.peer.port} (an int attribute, as the semantic conventions
     * define it), the server's port as {@code server.port} (an int as well).
     */
    public static Predicate<MetricPoint> connectionPending(SlowClient client, int serverPort) {
        return metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, NETTY) && p.has(PEER_ADDRESS, "127.0.0.1")
                && p.has(PEER_PORT, (long) client.localPort()) && p.has(SERVER_PORT, (long) serverPort));
    }

    /** A number point's value above {@code bound} (as_int or as_double). */
    public static Predicate<MetricPoint> above(double bound) {
        return p -> p.value() != null && p.doubleValue() > bound;
    }

    /**
     * The agent's numbers agree with each other: in every batch where a Netty connection holds more than twice
     * {@code highWaterMark} (so beyond its mark, whatever was written last), the same batch counts a blocked Netty
     * connection with a wait running.
     */
    public static void assertBlockedWhereverHeldBeyondTheMark(OtlpReceiver receiver, long highWaterMark) {
        List<MetricPoint> held = receiver.gaugePoints(CONNECTION_PENDING_BYTES).stream()
                .filter(p -> p.has(LAYER, NETTY) && p.doubleValue() > 2.0 * highWaterMark).toList();
        assertThat(held).as("batches with a connection beyond its high-water mark").isNotEmpty();
        for (MetricPoint p : held) {
            List<MetricPoint> blocked = receiver.pointsInBatch(Contract.CONNECTIONS_BLOCKED, p.batch()).stream()
                    .filter(b -> b.has(LAYER, NETTY)).toList();
            assertThat(blocked).as("blocked connections in batch %d, beside %s", p.batch(), p)
                    .singleElement().satisfies(b -> assertThat(b.doubleValue()).isGreaterThanOrEqualTo(1));
            List<MetricPoint> oldest = receiver.pointsInBatch(Contract.DRAIN_OLDEST_WAIT, p.batch()).stream()
                    .filter(b -> b.has(LAYER, NETTY)).toList();
            assertThat(oldest).as("the oldest wait in batch %d, beside %s", p.batch(), p)
                    .singleElement().satisfies(b -> assertThat(b.doubleValue()).isPositive());
        }
    }

    /**
     * What every export of the agent must look like: proper OTLP (nothing the receiver refused), the contract's
     * {@code backpressure.*} metrics in the scope {@code highwater} with the agent's version, and a resource with
     * {@code service.name} {@code it-netty} and a {@code service.instance.id} on every point.
     */
    public static void assertWellFormed(OtlpReceiver receiver) {
        assertThat(receiver.errors()).as("requests the receiver refused").isEmpty();
        List<MetricPoint> points = receiver.points();
        assertThat(points).as("metric data points").isNotEmpty();
        String version = ItEnv.property("highwater.it.agent.version");
        for (MetricPoint p : points) {
            if (p.metric().startsWith("backpressure.")) {
                assertThat(p.scopeName()).as("scope of %s", p).isEqualTo(Contract.SCOPE);
                assertThat(p.scopeVersion()).as("scope version of %s", p).isEqualTo(version);
            }
            assertThat(p.resource()).as("resource of %s", p)
                    .containsEntry(Contract.SERVICE_NAME, ExportServer.SERVICE_NAME);
            assertThat(p.resource().get(Contract.SERVICE_INSTANCE_ID)).as("service.instance.id of %s", p)
                    .isInstanceOf(String.class).asString().isNotBlank();
        }
    }

    /**
     * One write is counted once, at the highest layer that owns it: writes that Netty or a servlet container makes
     * through the JDK's {@code SocketChannel} never show up under layer {@code socket}, whose totals are still
     * exported (at 0) because the layer is on.
     */
    public static void assertSocketLayerQuiet(OtlpReceiver receiver) {
        List<MetricPoint> socket = receiver.points().stream().filter(p -> p.has(LAYER, Contract.SOCKET)).toList();
        assertThat(socket).as("socket layer points (the layer is on by default)").isNotEmpty();
        assertThat(socket).allSatisfy(p -> {
            assertThat(p.metric()).as("%s", p).isNotIn(CONNECTION_PENDING_BYTES, Contract.KERNEL_QUEUED_BYTES);
            assertThat(p.doubleValue()).as("%s", p).isZero();
        });
    }

    /** Checks the instrument kinds and units of the metric contract for whatever of them has arrived. */
    public static void assertContractShapes(OtlpReceiver receiver) {
        receiver.counterPoints(IGNORED_WRITES)
                .forEach(p -> assertThat(p.unit()).as("unit of %s", p).isEqualTo("{write}"));
        receiver.counterPoints(IGNORED_BYTES).forEach(p -> assertThat(p.unit()).as("unit of %s", p).isEqualTo("By"));
        for (String gauge : List.of(Contract.PENDING_BYTES, CONNECTION_PENDING_BYTES, Contract.MEMORY_LIMIT)) {
            receiver.gaugePoints(gauge).forEach(p -> assertThat(p.unit()).as("unit of %s", p).isEqualTo("By"));
        }
    }
}

package io.highwater.it;

import io.highwater.it.apps.ReflectiveServer;
import io.highwater.it.apps.javax.Tomcat9Server;
import io.highwater.it.apps.servlet.JettyServer;
import io.highwater.it.apps.servlet.TomcatServer;
import io.highwater.it.apps.servlet.UndertowServer;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.ExportServer;
import io.highwater.it.support.ListeningChild;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.highwater.it.support.SlowClient;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static io.highwater.it.support.Contract.CONNECTIONS_BLOCKED;
import static io.highwater.it.support.Contract.CONNECTION_PENDING_BYTES;
import static io.highwater.it.support.Contract.DRAIN_WAIT;
import static io.highwater.it.support.Contract.FUNCTION;
import static io.highwater.it.support.Contract.IGNORED_WRITES;
import static io.highwater.it.support.Contract.LAYER;
import static io.highwater.it.support.Contract.OUTPUT_NOT_READY;
import static io.highwater.it.support.Contract.PEER_ADDRESS;
import static io.highwater.it.support.Contract.PEER_PORT;
import static io.highwater.it.support.Contract.SERVER_PORT;
import static io.highwater.it.support.Contract.SERVLET;
import static io.highwater.it.support.Contract.SIGNAL;
import static io.highwater.it.support.Contract.SPAN_IGNORED_WRITES;
import static io.highwater.it.support.Exports.above;
import static io.highwater.it.support.Exports.assertSocketLayerQuiet;
import static io.highwater.it.support.Exports.assertWellFormed;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The servlet layer on real embedded containers in child JVMs with the agent, driven by real slow clients: the version
 * matrix of docs/integrations/servlet.md, Tomcat 9 to 11, Jetty 9.4 to 12 ee10, Undertow 2.2 and 2.3 (javax and
 * jakarta). Each container's accepted sockets get a 64 KiB send buffer, so a paused client fills the kernel quickly
 * and the container has to wait.
 *
 * <p>Its cases run concurrently with each other (each has its own receiver, container JVM and clients, on ephemeral
 * ports), in the three slots all test classes share (junit-platform.properties).
 */
@Execution(ExecutionMode.CONCURRENT)
class ServletContainerTest {

    private static final String SERVLETS_JAKARTA = "io.highwater.it.apps.servlet";
    private static final String SERVLETS_JAVAX = "io.highwater.it.apps.javax";

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    /**
     * The version matrix (docs/integrations/servlet.md): each line's lowest and highest version the agent claims.
     * The older Jetty and Undertow 2.2 are launched by {@link ReflectiveServer}, as the test sources compile against
     * Jetty 12 and Undertow 2.3.
     */
    enum Container {
        TOMCAT_11("tomcat-11", TomcatServer.class, "Apache Tomcat/11.", SERVLETS_JAKARTA),
        TOMCAT_10_1("tomcat-10", TomcatServer.class, "Apache Tomcat/10.1.", SERVLETS_JAKARTA),
        TOMCAT_9("tomcat-9", Tomcat9Server.class, "Apache Tomcat/9.", SERVLETS_JAVAX),
        JETTY_12("jetty-12", JettyServer.class, "jetty/12.", SERVLETS_JAKARTA),
        JETTY_11("jetty-11", ReflectiveServer.class, "jetty/11.", SERVLETS_JAKARTA, "jetty", SERVLETS_JAKARTA),
        JETTY_10("jetty-10", ReflectiveServer.class, "jetty/10.", SERVLETS_JAVAX, "jetty", SERVLETS_JAVAX),
        JETTY_9_4("jetty-9.4", ReflectiveServer.class, "jetty/9.4.", SERVLETS_JAVAX, "jetty", SERVLETS_JAVAX),
        UNDERTOW_2_3("undertow-2", UndertowServer.class, "undertow/2.3.", SERVLETS_JAKARTA),
        UNDERTOW_2_2("undertow-2.2", ReflectiveServer.class, "undertow/2.2.", SERVLETS_JAVAX, "undertow",
                SERVLETS_JAVAX);

        final String dir;
        final Class<?> main;
        final String info;
        final String appPackage;
        final List<String> mainArgs;

        Container(String dir, Class<?> main, String info, String appPackage, String... mainArgs) {
            this.dir = dir;
            this.main = main;
            this.info = info;
            this.appPackage = appPackage;
            this.mainArgs = List.of(mainArgs);
        }
    }

    /** A container in a child JVM with the agent exporting to {@code receiver}. */
    static ListeningChild server(Container c, OtlpReceiver receiver) {
        return ListeningChild.start(ChildJvm.builder("servlet-" + c.name()).classPath(List.of(ItEnv.testClasses()))
                        .classPath(ChildJvm.jars(ItEnv.containerDir(c.dir))).mainClass(c.main)
                        .args(c.mainArgs.toArray(new String[0])).args("--sndbuf", String.valueOf(64 * KIB))
                        .jvmArg("-javaagent:" + ItEnv.agentJar() + "=" + ExportServer.agentArgs(receiver.endpoint())),
                child -> assertThat(child.awaitStdoutValue("CONTAINER")).startsWith(c.info));
    }

    private static List<MetricPoint> servletPoints(OtlpReceiver receiver, String metric) {
        return receiver.points(metric).stream().filter(p -> p.has(LAYER, SERVLET)).toList();
    }

    /**
     * The top-N point of the servlet connection of {@code client}: its address and ephemeral port, the container's
     * port, and bytes the container holds for it.
     */
    static Predicate<MetricPoint> pendingOf(SlowClient client, int serverPort) {
        return metric(CONNECTION_PENDING_BYTES).and(p -> p.has(LAYER, SERVLET) && p.has(PEER_ADDRESS, "127.0.0.1")
                && p.has(PEER_PORT, (long) client.localPort()) && p.has(SERVER_PORT, (long) serverPort))
                .and(above(0));
    }

    private static long drainWaits(OtlpReceiver receiver) {
        return servletPoints(receiver, DRAIN_WAIT).stream().mapToLong(MetricPoint::longValue).max().orElse(0);
    }

    static void assertNoIgnoredWrites(OtlpReceiver receiver) {
        assertThat(receiver.counterPoints(IGNORED_WRITES)).filteredOn(p -> p.has(LAYER, SERVLET))
                .allSatisfy(p -> assertThat(p.longValue()).as("%s", p).isZero());
    }

    /**
     * Every container with writes smaller than its buffer (16 KiB); Undertow also with writes larger than its buffer
     * (256 KiB), which wait elsewhere: in {@code writeBlocking(ByteBuffer[], int, int, int)} (2.3), or inline in
     * {@code writeTooLargeForBuffer} (2.2.28, which lacks that method).
     */
    static Stream<Arguments> containersAndBlockingChunks() {
        return Stream.concat(Stream.of(Container.values()).map(c -> Arguments.of(c, 16 * KIB)),
                Stream.of(Container.UNDERTOW_2_2, Container.UNDERTOW_2_3).map(c -> Arguments.of(c, 256 * KIB)));
    }

    @ParameterizedTest(name = "{0}, {1}-byte writes")
    @MethodSource("containersAndBlockingChunks")
    void blockingWritersAreBlockedConnectionsAndDrainWaitsNeverIgnoredWrites(Container container, int chunk) {
        int clients = 3;
        long total = 8L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(container, receiver)) {
            List<SlowClient> slow = new ArrayList<>();
            try {
                for (int i = 0; i < clients; i++) {
                    slow.add(SlowClient.builder(server.port, "/blocking?bytes=" + total + "&chunk=" + chunk)
                            .bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect());
                }
                slow.forEach(SlowClient::awaitPaused);
                receiver.awaitPoint(clients + " servlet connections blocked", metric(CONNECTIONS_BLOCKED)
                        .and(p -> p.has(LAYER, SERVLET)).and(above(clients - 0.5)));
                for (SlowClient c : slow) {
                    // a blocked write holds at least the unsent part of the socket's write buffer
                    receiver.awaitPoint("bytes held for the blocked connection of " + c, pendingOf(c, server.port));
                }
                slow.forEach(SlowClient::resume);
                for (SlowClient c : slow) {
                    c.awaitComplete();
                    assertThat(c.bodyBytesRead()).isEqualTo(total);
                }
            } finally {
                slow.forEach(SlowClient::close);
            }
            receiver.awaitFurtherMetricBatches(2);
            assertWellFormed(receiver);
            // the containers write through SocketChannel: those writes stay in the servlet layer
            assertSocketLayerQuiet(receiver);
            assertThat(drainWaits(receiver)).as("servlet drain waits").isPositive();
            assertNoIgnoredWrites(receiver);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void asyncWriterHonouringIsReadyHasDrainWaitsAndNoIgnoredWrites(Container container) {
        long total = 4L * MIB;
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(container, receiver);
             SlowClient client = SlowClient.builder(server.port, "/respecting?bytes=" + total + "&chunk=" + 16 * KIB)
                     .bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            client.awaitPaused();
            // paused: the stream said not ready and stays so until the client reads again
            receiver.awaitPoint("the not-ready stream as a blocked connection", metric(CONNECTIONS_BLOCKED)
                    .and(p -> p.has(LAYER, SERVLET)).and(above(0.5)));
            // not ready: the container holds what the socket did not take, for the client's own connection (on
            // Jetty the async write in flight; ServletReadinessTest bounds these bytes)
            receiver.awaitPoint("bytes held for the not-ready stream of " + client, pendingOf(client, server.port));
            client.resume();
            client.awaitComplete();
            assertThat(client.bodyBytesRead()).isEqualTo(total);
            receiver.awaitPoint("a servlet drain wait", metric(DRAIN_WAIT).and(p -> p.has(LAYER, SERVLET))
                    .and(p -> p.longValue() > 0));
            receiver.awaitFurtherMetricBatches(2);
            assertWellFormed(receiver);
            assertNoIgnoredWrites(receiver);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void asyncWriterIgnoringIsReadyIsReportedWithTheServletsMethod(Container container) {
        String function = container.appPackage + ".ExportServlets.writeRowsIgnoringReadiness";
        try (OtlpReceiver receiver = OtlpReceiver.start(); ListeningChild server = server(container, receiver);
             SlowClient client = SlowClient.builder(server.port, "/ignoring?bytes=" + 64L * MIB + "&chunk=" + 16 * KIB)
                     .bytesPerSecond(20_000_000).pauseAtBodyBytes(256 * KIB).connect()) {
            MetricPoint p = receiver.awaitPoint("ignored writes from " + function, metric(IGNORED_WRITES)
                    .and(q -> q.has(LAYER, SERVLET) && q.has(SIGNAL, OUTPUT_NOT_READY) && q.has(FUNCTION, function))
                    .and(above(0)));
            assertThat(p.longValue()).isPositive();
            server.child.awaitStdout("the container refusing the write", l -> l.startsWith("REFUSED"));
            // the response is over: the stream's episode ends as a span of the client's connection, with the method
            ReceivedSpan span = receiver.awaitSpan("the servlet episode of port " + client.localPort(),
                    sp -> sp.name().equals("backpressure servlet") && sp.isConnectionOf(client));
            assertThat(span.longAttr(SPAN_IGNORED_WRITES)).isPositive();
            assertThat(span.attr(FUNCTION)).isEqualTo(function);
            assertWellFormed(receiver);
        }
    }
}

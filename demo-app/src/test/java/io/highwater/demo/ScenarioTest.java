package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ScenarioTest {

    @Test
    void theIgnoringEndpointRunsOutOfDirectMemoryAboutHalfwayThroughPhaseTwo() {
        assertThat(NettyIgnoringPhase.defaultIgnoringRate(128L << 20, TimeUnit.SECONDS.toNanos(8)))
                .isEqualTo(32L << 20);
        assertThat(NettyIgnoringPhase.defaultIgnoringRate(128L << 20, TimeUnit.SECONDS.toNanos(30)))
                .isEqualTo(9L << 20);
        assertThat(NettyIgnoringPhase.defaultIgnoringRate(1L << 20, TimeUnit.SECONDS.toNanos(30))).isEqualTo(1L << 20);
    }

    @Test
    void theVertxPileIsCappedBelowTheHeapAndReachesItsCapAThirdOfTheWayThrough() {
        assertThat(VertxPhase.defaultCap(256L << 20)).isEqualTo(160L << 20);
        assertThat(VertxPhase.ignoringRate(160L << 20, TimeUnit.SECONDS.toNanos(6))).isEqualTo(80L << 20);
        assertThat(VertxPhase.ignoringRate(160L << 20, TimeUnit.SECONDS.toNanos(10))).isEqualTo(48L << 20);
        assertThat(VertxPhase.ignoringRate(1L << 20, TimeUnit.SECONDS.toNanos(10))).isEqualTo(1L << 20);
    }

    /**
     * The whole quick scenario with the built agent: the service in a child JVM, the phone, the agent's OTLP into
     * the live view. The servlet rows carry what the agent measured on the embedded Tomcat, the socket rows what it
     * measured on the plain ServerSocket, the Vert.x rows what it measured in Vert.x's queue ({@link #assertVertxPhase}). Needs agent/target/highwater-agent.jar (a reactor build packages it before
     * these tests) or -Dhighwater.agent.jar=PATH.
     */
    @Test
    void theQuickScenarioShowsTheServletSocketAndVertxLayersWithTheAgentsValues() throws Exception {
        Path agent = Paths.get(System.getProperty("highwater.agent.jar", "../agent/target/highwater-agent.jar"));
        assumeTrue(Files.isRegularFile(agent), "no agent jar at " + agent.toAbsolutePath());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int exit;
        try (PrintStream capture = new PrintStream(bytes, true, "UTF-8")) {
            System.setOut(capture);
            // Vert.x downloads of 8 s: the ignoring export's cap is due at 60 MiB/s after 2.7 s; on a loaded machine
            // generating and queueing the rows took up to 5 s, and the comparison needs the cap reached
            exit = Scenario.run(new String[] {"--agent", agent.toString(), "--quick", "--plain",
                    "--collector", "none", "--prometheus", "none", "--respecting-seconds", "2s",
                    "--ignoring-seconds", "4s", "--vertx-seconds", "8s"});
        } finally {
            System.setOut(original);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        original.println(out);
        assertThat(exit).as("scenario exit code").isZero();
        List<String> lines = Arrays.asList(out.split("\n"));
        int summary = lines.lastIndexOf("summary");
        assertThat(summary).as("the summary").isPositive();
        List<String> view = lines.subList(0, summary);

        // phase 2: the Netty writer that ignores isWritable(), named by the agent as the README quotes it
        assertThat(longIn(out, "ignored writes: (\\d+) at io\\.highwater\\.demo\\.NettyExport"
                + "\\.writeRowsIgnoringBackpressure")).isPositive();

        // the blocking servlet: Tomcat held bytes for the phone's connection, its thread was a blocked connection
        // at most one chunk of the servlet's, in Tomcat's response buffer and socket write buffer (8 KiB each)
        assertThat(longIn(out, "/servlet/blocking: peak pending ([0-9.]+ [KM]?i?B)"))
                .isBetween(1L, (long) ServletExport.CHUNK_SIZE + 16 * 1024);
        boolean servletBlocked = false;
        for (int i = 1; i < view.size(); i++) {
            servletBlocked |= view.get(i - 1).startsWith("[view] servlet ")
                    && view.get(i).matches("\\[view] {5}blocked [1-9]\\d*, oldest wait .*");
        }
        assertThat(servletBlocked).as("a servlet row with blocked connections").isTrue();
        // drain waits of the servlet layer ended and were exported
        assertThat(longIn(out, "drain wait \\(servlet\\): p50 [^(]+\\((\\d+) ended waits?\\)")).isPositive();
        // the async servlet that ignores isReady(): its method, with the count the agent exported
        // exactly one: Tomcat refuses the first write made while not ready, and the export breaks off there
        assertThat(longIn(out, "ignored writes: (\\d+) at io\\.highwater\\.demo\\.ServletExport"
                + "\\.writeRowsIgnoringReadiness")).isEqualTo(1);
        // the respecting one: no ignored writes in its row
        int respecting = lastIndexStartingWith(view, "[view] /servlet/respecting ");
        assertThat(respecting).isPositive();
        assertThat(view.get(respecting + 1)).endsWith("; no ignored writes");

        // phase 4, the plain socket: its thread blocked in write(), seen as a blocked connection of the socket layer
        // while it waited or as ended drain waits once the phone had gone
        assertThat(lines).anyMatch(l -> l.startsWith("  phase 4, plain java.net.ServerSocket: /socket/export read "));
        boolean socketBlocked = false;
        for (int i = 1; i < view.size(); i++) {
            socketBlocked |= view.get(i - 1).startsWith("[view] socket ")
                    && view.get(i).matches("\\[view] {5}blocked [1-9]\\d*, oldest wait .*");
        }
        Matcher socketWaits = Pattern.compile("drain wait \\(socket\\): p50 [^(]+\\((\\d+) ended waits?\\)")
                .matcher(out);
        assertThat(socketBlocked || socketWaits.find() && Long.parseLong(socketWaits.group(1)) > 0)
                .as("a socket row with a blocked connection, or ended drain waits of the socket layer").isTrue();
        // the process held the bytes of the blocked write call for the phone's connection
        // (at most the BufferedOutputStream's buffer: the blocked call writes that, or less)
        assertThat(longIn(out, "/socket/export: peak pending ([0-9.]+ [KM]?i?B)"))
                .isBetween(1L, (long) SocketExport.BUFFER_SIZE);
        if (Files.isReadable(Paths.get("/proc/net/tcp"))) {
            // and the kernel's send queue of that connection, read by the agent from /proc/net/tcp: bytes the socket
            // took that the phone had not acknowledged yet
            assertThat(longIn(out, "/socket/export: peak pending [^;]+; kernel send queue up to ([0-9.]+ [KM]?i?B)"))
                    .isPositive();
        }

        assertVertxPhase(out, view);
    }

    /**
     * Phase 6, Vert.x 5, in the same quick run: the ignoring export's rows pile up in Vert.x's queue. The agent's
     * vertx share of the connection is held against the service's own count (bytes it handed to Vert.x whose write
     * had not completed, less Netty's own count of its outbound buffer), the view stacks the vertx and netty shares,
     * the ignored writes carry the method and are at most the writes the service made while writeQueueFull() said
     * true; the respecting export ignores nothing and Vert.x's queue stays at its 16 rows.
     */
    private static void assertVertxPhase(String out, List<String> view) {
        List<String> service = new java.util.ArrayList<>();
        for (String l : out.split("\n")) {
            if (l.startsWith("[service] ")) {
                service.add(l.substring("[service] ".length()));
            }
        }
        long[] truth = VertxPhase.peakTruth(service);
        long whileFull = 0;
        for (String l : service) {
            Matcher m = VertxExport.TRUTH_LINE.matcher(l);
            if (m.find()) {
                whileFull = Math.max(whileFull, Long.parseLong(m.group(3)));
            }
        }
        // the cap is reached halfway through the download: from then on the pile only drains
        assertThat(service).as("the ignoring export handed over all it had").anyMatch(l ->
                l.startsWith("vertx export ignoring: all ") && l.endsWith(" handed to Vert.x; the client reads them"
                        + " at its pace"));
        assertThat(truth[0]).as("the service's own count of bytes queued in Vert.x and Netty")
                .isGreaterThan(100L << 20);
        assertThat(truth[1]).as("Netty's own count: its outbound buffer").isBetween(0L, 1L << 20);
        long vertxPeak = longIn(out, "/vertx/ignoring: peak pending [^(]+\\(shares at their peak: [^)]*vertx up to"
                + " ([0-9.]+ [KM]?i?B)");
        // once the export has handed everything over, the pile only shrinks (in bursts of about a MiB, as the kernel's
        // send buffer makes room): the agent's largest sample after that lies between the service's last count and
        // its largest, each less Netty's share then, give or take the rounding of the printed size
        long[] last = lastTruth(service);
        long slack = 256 * 1024;
        assertThat(vertxPeak).as("the agent's vertx share at its peak, against the service's counts: at most %s B less"
                + " Netty's %s B, at least %s B less Netty's %s B", truth[0], truth[1], last[0], last[1])
                .isBetween(last[0] - last[1] - slack, truth[0] - truth[1] + slack);
        long nettyPeak = longIn(out, "/vertx/ignoring: peak pending [^(]+\\(shares at their peak: netty up to"
                + " ([0-9.]+ [KM]?i?B)");
        assertThat(nettyPeak).as("Netty's share beside it: about its high-water mark").isBetween(1L, 1L << 20);
        assertThat(view).as("the view stacks the connection's shares")
                .anyMatch(l -> l.matches("\\[view] {5}pending [0-9.]+ MiB \\(vertx 1\\d\\d\\.\\d MiB \\+ netty [0-9.]+"
                        + " KiB\\) now, .*"));
        long ignored = longIn(out, "ignored writes: (\\d+) at io\\.highwater\\.demo\\.VertxExport"
                + "\\.writeRowsIgnoringBackpressure");
        // every write made while full but those of the tolerance (the queue's high-water mark of 16 rows again)
        assertThat(ignored).as("ignored writes; the service wrote %d times while writeQueueFull()", whileFull)
                .isBetween(whileFull - 64, whileFull);
        int respecting = lastIndexStartingWith(view, "[view] /vertx/respecting ");
        assertThat(respecting).isPositive();
        assertThat(view.get(respecting + 1)).endsWith("; no ignored writes");
        // 16 rows of 8 KiB in Vert.x's queue and the one that crossed it, and Netty's 64 KiB high-water mark
        assertThat(longIn(out, "/vertx/respecting: peak pending ([0-9.]+ [KM]?i?B)"))
                .isBetween(1L, 17L * VertxExport.ROW + 64 * 1024 + 16 * 1024);
    }

    /** The service's last count of the ignoring export (while its connection was open), as {@code peakTruth}. */
    private static long[] lastTruth(List<String> service) {
        long[] last = {-1, -1};
        for (String l : service) {
            Matcher m = VertxExport.TRUTH_LINE.matcher(l);
            if (m.find()) {
                last[0] = Long.parseLong(m.group(1));
                last[1] = Long.parseLong(m.group(2));
            }
        }
        return last;
    }

    private static int lastIndexStartingWith(List<String> lines, String prefix) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    /** The first group of {@code regex} in {@code text}: a count, or a size such as {@code 8.0 KiB} in bytes. */
    private static long longIn(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("output matching %s", regex).isTrue();
        String v = m.group(1);
        return v.matches("\\d+") ? Long.parseLong(v) : Units.parseSize(v);
    }
}

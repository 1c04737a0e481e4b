package io.highwater.it;

import io.highwater.it.apps.h2.H2WindowClient;
import io.highwater.it.support.ChildJvm;
import io.highwater.it.support.Fidelity;
import io.highwater.it.support.ItEnv;
import io.highwater.it.support.MetricPoint;
import io.highwater.it.support.OtlpReceiver;
import io.highwater.it.support.ReceivedSpan;
import io.opentelemetry.proto.trace.v1.Status;

import java.util.List;

import static io.highwater.it.support.Contract.HTTP2_CONNECTION_WINDOW;
import static io.highwater.it.support.Contract.SPAN_PENDING_BYTES;
import static io.highwater.it.support.Exports.fromBatch;
import static io.highwater.it.support.Exports.metric;
import static org.assertj.core.api.Assertions.assertThat;

/** What the HTTP/2 tests of stream channels and of direct encoder writers check alike. */
final class H2Checks {

    private H2Checks() {
    }

    /** {@link H2WindowClient} against the server on {@code port}: a connection window it never gives back. */
    static ChildJvm windowClient(int port) {
        return ChildJvm.builder("h2-window-client").classPath(List.of(ItEnv.testClasses()))
                .classPath(ChildJvm.jars(ItEnv.netty41Dir())).mainClass(H2WindowClient.class)
                .args("--port", String.valueOf(port)).start();
    }

    /**
     * The connection window exported from batch {@code after} on is 0, and so is the flow controller's own, read by
     * the application ({@code WINDOW} lines) around the collection.
     */
    static void assertConnectionWindowExhausted(OtlpReceiver receiver, ChildJvm server, int after, String shape) {
        MetricPoint window = receiver.awaitPoint("the connection window",
                metric(HTTP2_CONNECTION_WINDOW).and(fromBatch(after)));
        long[] appWindow = Http2FlowControllerTest.around(receiver, server, "WINDOW", window.timeUnixNano());
        Fidelity.record(shape, "flow controller's connection window (app)", appWindow[0], "http2 connection window",
                window.longValue());
        assertThat(appWindow).as("the flow controller's own connection window around the collection")
                .containsOnly(0L);
        assertThat(window.longValue()).as("%s", window).isZero();
    }

    /**
     * Netty cancelled the stream with its pile unwritten: the episode ends as a client gone, not as a drain, with the
     * bytes the application last saw pending ({@code pileBefore}, read just before the client went away; what a
     * client reading 200 KB/s took since is far below the 10 % allowed).
     */
    static void assertEndedUndelivered(ReceivedSpan span, long pileBefore) {
        assertThat(span.statusCode()).as("%s", span).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
        assertThat(pileBefore).as("the pile when the client went away").isGreaterThan(1L << 20);
        Fidelity.record("h2 stream whose client went away with its pile", "the application's last reading",
                pileBefore, "span pending bytes at the end", span.longAttr(SPAN_PENDING_BYTES));
        assertThat((double) span.longAttr(SPAN_PENDING_BYTES))
                .as("bytes never delivered against the application's last reading %d: %s", pileBefore, span)
                .isBetween(pileBefore * 0.9, pileBefore * 1.1);
    }

    /**
     * How late {@code H2cServer}'s event loop ran the tasks its timer queued on it ({@code FLOW n t queued=q}): the
     * most, in ms, over the child's output so far.
     */
    static long loopLag(ChildJvm child) {
        long max = 0;
        for (String line : child.stdout()) {
            String[] f = line.split(" ");
            if (f.length == 4 && f[0].equals("FLOW") && f[3].startsWith("queued=")) {
                max = Math.max(max, Long.parseLong(f[2]) - Long.parseLong(f[3].substring("queued=".length())));
            }
        }
        return max;
    }

    /** The value of the child's last stdout line {@code <prefix> <value> ...}. */
    static long lastReading(ChildJvm child, String prefix) {
        List<String> lines = child.stdout();
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith(prefix + " ")) {
                return Long.parseLong(lines.get(i).substring(prefix.length() + 1).trim().split(" ")[0]);
            }
        }
        throw new AssertionError("no " + prefix + " line:\n" + child.transcript());
    }
}

package io.highwater.demo;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The phone downloads from the servlets of {@link ServletExport} on the service's embedded Tomcat, one after the
 * other: blocking (a request thread waits in every write), async respecting {@code isReady()}, and async ignoring it.
 */
final class ServletPhase extends Phase {
    private static final String CONTAINER = "embedded Tomcat 11";
    private static final Pattern IGNORING_END = Pattern.compile("^servlet export ignoring: (.*)$");

    private long seconds;
    private int from;
    private SlowClient.Result blocking;
    private SlowClient.Result respecting;
    private SlowClient.Result ignoring;

    @Override
    void declare(OptionList options) {
        options.valued("servlet-seconds", "D", "length of each servlet download in phase " + number + " (default 10s)")
                .flag("no-servlet", "skip phase " + number + " (the servlet endpoints on embedded Tomcat)");
    }

    @Override
    boolean configure(Args args, ScenarioOptions options) {
        seconds = args.nanos("servlet-seconds", options.quick ? "2s" : "10s");
        return !args.has("no-servlet");
    }

    @Override
    List<String> serveArgs(boolean selected) {
        return Arrays.asList("--servlet-port", selected ? "0" : "-1");
    }

    @Override
    void play(Stage stage) {
        Integer port = stage.service.port(ReportingService.SERVLET_LISTENING);
        if (port == null) {
            stage.say("scenario: the service did not print " + ReportingService.SERVLET_LISTENING.trim() + ": phase "
                    + number + " skipped");
            return;
        }
        stage.say("");
        stage.say("phase " + number + " (" + Units.seconds(seconds) + " each): the same phone downloads from servlets"
                + " on " + CONTAINER + ", port " + port + ".");
        from = stage.service.mark();
        stage.say("  /servlet/blocking writes in a loop: it cannot ignore the client, its request thread waits inside"
                + " write() — watch blocked connections and drain waits (what exhausts a thread pool).");
        blocking = stage.download(port, "/servlet/blocking", seconds);
        stage.awaitMetrics();
        stage.say("  /servlet/respecting is async and writes only while isReady(), resuming in onWritePossible():"
                + " no thread waits, no ignored writes.");
        respecting = stage.download(port, "/servlet/respecting", seconds);
        stage.awaitMetrics();
        stage.say("  /servlet/ignoring is async and writes although isReady() said false: Tomcat refuses the write"
                + " (IllegalStateException) and the download breaks off" + (stage.hasView() ? "; highwater counts"
                + " the ignored write and names " + ServletExport.class.getName() + ".writeRowsIgnoringReadiness."
                : "."));
        ignoring = stage.download(port, "/servlet/ignoring", seconds);
        stage.awaitMetrics();
    }

    @Override
    void summarize(Stage stage) {
        if (ignoring == null) {
            return;
        }
        ServiceProcess.Seen end = stage.service.find(from, IGNORING_END);
        stage.say("  phase " + number + ", servlets on " + CONTAINER + ": /servlet/blocking read "
                + Units.size(blocking.bodyBytes) + ", /servlet/respecting " + Units.size(respecting.bodyBytes)
                + ", /servlet/ignoring " + Units.size(ignoring.bodyBytes) + (end != null ? " (" + end.group(1) + ")"
                : ""));
    }

    @Override
    void summarizeAgent(Stage stage, AgentTelemetry.Snapshot telemetry) {
        if (ignoring == null) {
            return;
        }
        stage.say("    /servlet/blocking: peak pending " + stage.peakPending(telemetry, blocking)
                + "; /servlet/respecting: peak pending " + stage.peakPending(telemetry, respecting)
                + "; /servlet/ignoring: peak pending " + stage.peakPending(telemetry, ignoring));
    }
}

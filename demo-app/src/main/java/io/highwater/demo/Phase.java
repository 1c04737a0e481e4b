package io.highwater.demo;

import java.util.Collections;
import java.util.List;

/**
 * One phase of the demo: the phone downloads the export from an endpoint (or a few) of the service, the narrator says
 * what to watch, and the summary says what happened. A new phase is a subclass and one line in
 * {@link Scenario#phases()}: it declares and reads its own options, switches on the server it needs, plays, and sums
 * up. A phase is used once, for one run.
 */
abstract class Phase {
    /** Its place in the story, from 1; {@link Scenario} numbers the phases in order. */
    int number;

    /** Declares this phase's options, for the parser and {@code --help}. */
    void declare(OptionList options) {
    }

    /** Reads this phase's options; false when they leave it out. */
    boolean configure(Args args, ScenarioOptions options) {
        return true;
    }

    /**
     * Options for the service's {@code serve} command, asked of every phase, {@code selected} or not: one left out
     * turns off the server only it would use.
     */
    List<String> serveArgs(boolean selected) {
        return Collections.emptyList();
    }

    /** Narrates, lets the phone download, and waits until the agent has reported what happened. */
    abstract void play(Stage stage);

    /** Its lines in the summary: what the phone read and what the service said. Nothing when it could not play. */
    abstract void summarize(Stage stage);

    /** Its lines in the summary's account of what the agent exported (with the live view only). */
    abstract void summarizeAgent(Stage stage, AgentTelemetry.Snapshot telemetry);
}

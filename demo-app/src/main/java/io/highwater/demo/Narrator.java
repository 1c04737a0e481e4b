package io.highwater.demo;

import java.io.PrintStream;

/**
 * Prints the scenario's lines, each whole, from whichever thread: through the live view while there is one (it keeps
 * them above its block), else straight to stdout.
 */
final class Narrator {
    private final PrintStream out;
    /** Set once the view exists, before any thread but main prints. */
    private volatile LiveView view;

    Narrator(PrintStream out) {
        this.out = out;
    }

    PrintStream out() {
        return out;
    }

    void view(LiveView view) {
        this.view = view;
    }

    void say(String line) {
        LiveView v = view;
        if (v != null) {
            v.log(line);
            return;
        }
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}

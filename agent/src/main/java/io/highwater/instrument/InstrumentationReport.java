package io.highwater.instrument;

import io.highwater.base.Log;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** What was instrumented and what was skipped, with why: logged once each, and shown by the console. */
public final class InstrumentationReport {

    private final Set<String> instrumented = new LinkedHashSet<>();
    private final Set<String> skipped = new LinkedHashSet<>();

    public synchronized void instrumented(String what) {
        if (instrumented.add(what)) {
            Log.info("instrumented " + what);
        }
    }

    public synchronized void skipped(String what) {
        if (skipped.add(what)) {
            Log.info("skipped " + what);
        }
    }

    public synchronized List<String> instrumented() {
        return new ArrayList<>(instrumented);
    }

    public synchronized List<String> skipped() {
        return new ArrayList<>(skipped);
    }
}

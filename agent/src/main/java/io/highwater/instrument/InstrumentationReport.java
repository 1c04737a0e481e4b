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

    /**
     * The verdict of a target's {@code check} on one class: null, said as instrumented ({@code label (part)}), when
     * the class lacks nothing and its loader sees the agent's bootstrap classes; otherwise why not, said as skipped.
     *
     * @param subject     what was looked at ({@code ChannelOutboundBuffer}), named in the reason
     * @param missing     what {@code subject} lacks that the advice or the integration needs
     * @param consequence what the user loses, starting with {@code "; "}
     */
    public String verdict(String label, ClassLoader loader, String subject, List<String> missing, String consequence,
                          String part) {
        String why = !missing.isEmpty() ? label + ": " + subject + " lacks " + String.join(", ", missing) + consequence
                : bootstrapInvisible(label, loader);
        if (why != null) {
            skipped(why);
            return why;
        }
        instrumented(label + " (" + part + ")");
        return null;
    }

    /** Null when {@code loader} sees the agent's bootstrap classes (the advice calls them), otherwise why not. */
    public static String bootstrapInvisible(String label, ClassLoader loader) {
        try {
            Class.forName("io.highwater.bootstrap.Bridge", false, loader);
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return label + " in " + loader + ": its class loader does not delegate to the bootstrap class path";
        }
    }

    public synchronized List<String> instrumented() {
        return new ArrayList<>(instrumented);
    }

    public synchronized List<String> skipped() {
        return new ArrayList<>(skipped);
    }
}

package io.highwater.servlet;

import io.highwater.instrument.AdviceTransformer;
import io.highwater.instrument.InstrumentationReport;

import java.util.List;

/**
 * One container's part of the servlet integration ({@code io.highwater.servlet.tomcat}, {@code .jetty},
 * {@code .undertow}): the classes it instruments, each checked with the {@link io.highwater.instrument.Reference}s
 * its advice and its {@link ContainerAccess} need before advice is applied, and the versions it was tested on.
 * The servlet layer, the hooks, the adapter and the {@code javax}/{@code jakarta}-neutral stream advice are shared.
 */
public interface ContainerPart {

    /** {@code tomcat}, {@code jetty}, {@code undertow}. */
    String name();

    /** The versions the tests run this part on, for the start-up line: only what was tested. */
    String tested();

    List<AdviceTransformer.Target> targets(InstrumentationReport report);

    ContainerAccess access(WritesInProgress writes);
}

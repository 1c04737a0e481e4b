package io.highwater.servlet;

import java.util.List;

/**
 * What the write advice has announced and the containers do not keep where the agent could read it later: the
 * application's bytes a write still holds while the container works through them. Read at collection time and on
 * slow paths; implementations never throw.
 */
public interface WritesInProgress {

    /** The bytes of a blocking write that {@code stream} has handed to its connection and waits on; 0 when none. */
    long blocking(Object stream);

    /** Jetty: the async write of {@code stream} that hands the application's content over in slices, or null. */
    Object slicedWriteOf(Object stream);

    /**
     * Tomcat: the bytes of the application's array that {@code outputBuffer} has not passed down yet, in a write
     * larger than its buffer; 0 when none.
     */
    long arrayRest(Object outputBuffer);

    /** Tomcat: the response buffers whose {@link #arrayRest} may not be 0 right now (a snapshot; usually empty). */
    List<Object> arrayWriters();
}

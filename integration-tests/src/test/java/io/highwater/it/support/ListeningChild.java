package io.highwater.it.support;

import java.util.function.Consumer;

/**
 * A server in a child JVM, started and waited for until it prints {@code LISTENING <port>} (and passes
 * {@code check}); closed again when either fails, so a test never leaks a half-started child.
 */
public final class ListeningChild implements AutoCloseable {

    public final ChildJvm child;
    public final int port;

    private ListeningChild(ChildJvm child, int port) {
        this.child = child;
        this.port = port;
    }

    public static ListeningChild start(ChildJvm.Builder builder, Consumer<ChildJvm> check) {
        ChildJvm child = builder.start();
        try {
            int port = child.awaitListening();
            check.accept(child);
            return new ListeningChild(child, port);
        } catch (RuntimeException | Error e) {
            child.close();
            throw e;
        }
    }

    public static ListeningChild start(ChildJvm.Builder builder) {
        return start(builder, child -> { });
    }

    @Override
    public void close() {
        child.close();
    }
}

package io.highwater.it.apps.websocket;

/** The Spring case's figures, in a class that loads no Spring class (the test JVM need not have Spring). */
public final class SpringLimits {

    /** The decorator's buffer size limit. */
    public static final int BUFFER_LIMIT = 1024 * 1024;

    private SpringLimits() {
    }
}

package io.highwater.http2.bootstrap;

import jdk.internal.vm.annotation.DontInline;

/**
 * What the HTTP/2 advice calls: one call into here, which catches whatever the agent throws and is never inlined
 * into Netty's methods (see {@code NettyCalls} for why). See {@link Http2Hooks}.
 */
public final class Http2Calls {

    /** Never null: {@link Http2Hooks#NOOP} when no agent is active. */
    public static volatile Http2Hooks hooks = Http2Hooks.NOOP;

    private Http2Calls() {
    }

    @DontInline
    public static void childWritabilityChanged(Object child) {
        try {
            hooks.childWritabilityChanged(child);
        } catch (Throwable t) {
            // never into the host's write
        }
    }

    @DontInline
    public static void headers(Object channel, int streamId, CharSequence path) {
        try {
            hooks.headers(channel, streamId, path);
        } catch (Throwable t) {
            // never into the host's read
        }
    }
}

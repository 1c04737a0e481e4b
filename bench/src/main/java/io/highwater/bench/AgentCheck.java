package io.highwater.bench;

import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;

import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes a benchmark fork prove which side of the comparison it is on, so that a missing or broken
 * {@code -javaagent} cannot pass for "no overhead": a "with agent" fork checks that the agent is active and that
 * its advice really is inlined into Netty's {@code ChannelOutboundBuffer}; a "without agent" fork checks that no
 * agent is there.
 */
public final class AgentCheck {

    private static final String BRIDGE = "io.highwater.bootstrap.Bridge";
    private static final String HOOKS = "io.highwater.netty.bootstrap.NettyHooks";
    private static final String NETTY_CALLS = "io.highwater.netty.bootstrap.NettyCalls";
    private static final String SERVLET_HOOKS = "io.highwater.servlet.bootstrap.ServletHooks";
    private static final String SERVLET_CALLS = "io.highwater.servlet.bootstrap.ServletCalls";

    private AgentCheck() {
    }

    public static void expect(boolean withAgent) {
        Class<?> bridge = bootstrapClass(BRIDGE);
        if (!withAgent) {
            if (bridge != null) {
                throw new IllegalStateException("this fork must run without the agent, but " + BRIDGE + " is loaded");
            }
            return;
        }
        if (bridge == null) {
            throw new IllegalStateException("this fork must run with " + BuildInfo.JAVAAGENT
                    + " but the agent's bootstrap helpers are missing (is the agent jar there? rebuild bench with"
                    + " -Dhighwater.agent.source=...; a command-line -jvmArgsAppend replaces the one that adds -javaagent: use -jvmArgsPrepend)");
        }
        try {
            if (bridge.getField("activeAgent").get(null) == null) {
                throw new IllegalStateException("the agent is loaded but not active in this fork");
            }
            Set<String> seen = adviceCalls();
            if (!seen.contains("writabilityChanged") || !seen.contains("writeWhileUnwritable")) {
                throw new IllegalStateException("the agent is active but its Netty advice did not fire (saw " + seen
                        + "): ChannelOutboundBuffer was not instrumented");
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("unexpected agent bootstrap helpers: " + e, e);
        }
        System.out.println("# highwater agent active, advice inlined into ChannelOutboundBuffer (Netty "
                + BuildInfo.NETTY_VERSION + ")");
    }

    /**
     * For the servlet benchmarks, after {@link #expect}: in a "with agent" fork, proves that the agent's write advice
     * is inlined into Tomcat's {@code CoyoteOutputStream}. It swaps in a recording servlet hook for a moment, raises
     * the not-ready counter (so that the advice goes past its fast path), writes one byte to a throwaway stream and
     * checks that the advice reported it.
     */
    public static void expectServletAdvice(boolean withAgent) {
        if (!withAgent) {
            return;
        }
        try {
            Field servlet = bootstrapClass(SERVLET_CALLS).getField("hooks");
            Object agentHooks = servlet.get(null);
            Set<String> seen = ConcurrentHashMap.newKeySet();
            Object recorder = recorder(bootstrapClass(SERVLET_HOOKS), seen);
            servlet.set(null, recorder);
            servletNotReady(+1);
            try {
                ServletWrite.stream().write(new byte[1], 0, 1);
            } finally {
                servletNotReady(-1);
                servlet.set(null, agentHooks);
            }
            if (!seen.contains("writeWhileNotReady")) {
                throw new IllegalStateException("the agent is active but its servlet write advice did not fire (saw "
                        + seen + "): CoyoteOutputStream was not instrumented");
            }
        } catch (ReflectiveOperationException | java.io.IOException e) {
            throw new IllegalStateException("could not check the servlet advice: " + e, e);
        }
        System.out.println("# highwater servlet advice inlined into CoyoteOutputStream");
    }

    /**
     * With the agent, proves that its gRPC advice is inlined into grpc-core's accounting: one stream pushed past its
     * on-ready threshold raises the agent's count of calls that are not ready, and drained lowers it again.
     */
    public static void expectGrpcAdvice(boolean withAgent) {
        if (!withAgent) {
            return;
        }
        try {
            Object counter = bootstrapClass("io.highwater.grpc.bootstrap.GrpcCalls").getField("notReadyCalls")
                    .get(null);
            io.grpc.internal.BenchGrpcStream s = new io.grpc.internal.BenchGrpcStream();
            s.sending(64 * 1024);
            int raised = ((java.util.concurrent.atomic.AtomicInteger) counter).get();
            s.sent(64 * 1024);
            int lowered = ((java.util.concurrent.atomic.AtomicInteger) counter).get();
            if (raised != 1 || lowered != 0) {
                throw new IllegalStateException("the agent is active but its gRPC advice did not fire (not-ready"
                        + " calls " + raised + " above the threshold, " + lowered + " below): AbstractStream$TransportState"
                        + " was not instrumented");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("could not check the gRPC advice: " + e, e);
        }
        System.out.println("# highwater gRPC advice inlined into AbstractStream$TransportState");
    }

    /**
     * With the agent, proves that its HTTP/2 advice is inlined into Netty's remote flow controller
     * ({@code DefaultHttp2RemoteFlowController$FlowState.enqueueFrame}): it swaps in a recording hook for a moment,
     * queues frames on a throwaway stream whose window is exhausted until it holds more than the advice's floor, and
     * checks that the advice reported the next frame.
     */
    public static void expectHttp2Advice(boolean withAgent) {
        if (!withAgent) {
            return;
        }
        try {
            Field calls = bootstrapClass("io.highwater.http2.bootstrap.Http2Calls").getField("hooks");
            Object agentHooks = calls.get(null);
            Set<String> seen = ConcurrentHashMap.newKeySet();
            calls.set(null, recorder(bootstrapClass("io.highwater.http2.bootstrap.Http2Hooks"), seen));
            try {
                Http2FlowControllerPath.pushPastTheFloor();
            } finally {
                calls.set(null, agentHooks);
            }
            if (!seen.contains("enqueued")) {
                throw new IllegalStateException("the agent is active but its HTTP/2 advice did not fire (saw " + seen
                        + "): DefaultHttp2RemoteFlowController$FlowState was not instrumented");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("could not check the HTTP/2 advice: " + e, e);
        }
        System.out.println("# highwater HTTP/2 advice inlined into DefaultHttp2RemoteFlowController$FlowState");
    }

    /**
     * With the agent, proves that each websocket advice that {@link WebSocketSend} measures is inlined where it
     * belongs: it swaps in a recording hook for a moment, raises the agent's three gates (sends waiting, Jetty sends
     * remembered, Tomcat blocking sends waiting) so that the gated advice goes past its fast path, drives throwaway instances (a Tomcat write that
     * stays pending on a socket that takes nothing, a Jetty flusher that holds its frame) and checks that every advice
     * reported. The agent's hooks and gates are put back before returning.
     */
    public static void expectWebSocketAdvice(boolean withAgent) {
        if (!withAgent) {
            return;
        }
        String calls = "io.highwater.websocket.bootstrap.WebSocketCalls";
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try {
            Field hooks = bootstrapClass(calls).getField("hooks");
            Field waiting = bootstrapClass(calls).getField("waiting");
            Field blockingSends = bootstrapClass(calls).getField("blockingSends");
            Field tomcatBlocking = bootstrapClass(calls).getField("tomcatBlocking");
            Object agentHooks = hooks.get(null);
            int agentWaiting = waiting.getInt(null);
            int agentBlockingSends = blockingSends.getInt(null);
            int agentTomcatBlocking = tomcatBlocking.getInt(null);
            hooks.set(null, recorder(bootstrapClass("io.highwater.websocket.bootstrap.WebSocketHooks"), seen));
            try {
                jakarta.websocket.SendHandler ignore = result -> { };
                // ungated: a non-blocking write that stays pending
                org.apache.tomcat.websocket.server.BenchWsEndpoint stalled =
                        org.apache.tomcat.websocket.server.BenchWsEndpoint.create();
                stalled.stall();
                stalled.write(ignore, java.nio.ByteBuffer.allocate(4 * 8192));
                // a Jetty send whose future is not done (held by the flusher), then two more behind it: the last
                // finds the queue not empty
                WebSocketSend.Session held = new WebSocketSend.Session(new WebSocketSend.Flusher(true));
                held.sendFrame(WebSocketSend.binaryFrame(), new org.eclipse.jetty.util.FutureCallback(), false);
                held.sendFrame(WebSocketSend.binaryFrame(), org.eclipse.jetty.util.Callback.NOOP, false);
                held.sendFrame(WebSocketSend.binaryFrame(), org.eclipse.jetty.util.Callback.NOOP, false);
                // gated: completions while a send waits, a wait on a future while sends are remembered, the end of
                // a blocking write while one waits for its socket
                waiting.setInt(null, 1);
                blockingSends.setInt(null, 1);
                tomcatBlocking.setInt(null, 1);
                org.apache.tomcat.websocket.server.BenchWsEndpoint.create().writeBlocking(ignore,
                        java.nio.ByteBuffer.allocate(16));
                org.apache.tomcat.websocket.server.BenchWsEndpoint.create().write(ignore,
                        java.nio.ByteBuffer.allocate(16));
                WebSocketSend.Session fast = new WebSocketSend.Session(new WebSocketSend.Flusher(false));
                fast.sendFrame(WebSocketSend.binaryFrame(), org.eclipse.jetty.util.Callback.NOOP, false);
                org.eclipse.jetty.util.FutureCallback done = new org.eclipse.jetty.util.FutureCallback();
                done.succeeded();
                done.get();
            } finally {
                hooks.set(null, agentHooks);
                waiting.setInt(null, agentWaiting);
                blockingSends.setInt(null, agentBlockingSends);
                tomcatBlocking.setInt(null, agentTomcatBlocking);
            }
        } catch (ReflectiveOperationException | RuntimeException | InterruptedException
                 | java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("could not check the websocket advice: " + e, e);
        }
        java.util.List<String> missing = new java.util.ArrayList<>();
        String[][] expected = {
                {"tomcatBlockingEnds", "TomcatDoWriteAdvice (WsRemoteEndpointImplServer.doWrite exit, blocking)"},
                {"tomcatWritePending", "TomcatDoWriteAdvice (WsRemoteEndpointImplServer.doWrite exit, non-blocking)"},
                {"tomcatWriteDone", "TomcatClearHandlerAdvice (WsRemoteEndpointImplServer.clearHandler)"},
                {"jettySendPending", "JettySessionSendAdvice (OutgoingFrames.sendFrame(Frame, Callback, boolean))"},
                {"jettySendWhileQueued", "JettySendFrameAdvice (WebSocketFlusher.sendFrame)"},
                {"jettyEntryDone", "JettyEntryDoneAdvice (WebSocketFlusher.notifyCallbackSuccess)"},
                {"jettyBlockingBegins", "JettyFutureWaitAdvice (FutureCallback.get)"}};
        for (String[] e : expected) {
            if (!seen.contains(e[0])) {
                missing.add(e[1]);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the agent is active but some websocket advice did not fire: " + missing
                    + " (saw " + seen + ")");
        }
        System.out.println("# highwater websocket advice inlined into WsRemoteEndpointImplServer, WebSocketFlusher,"
                + " OutgoingFrames and FutureCallback");
    }

    /** Adds {@code delta} to the agent's count of async streams that are not ready. */
    static void servletNotReady(int delta) {
        try {
            Object counter = bootstrapClass(SERVLET_CALLS).getField("notReadyStreams").get(null);
            ((java.util.concurrent.atomic.AtomicInteger) counter).addAndGet(delta);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("unexpected agent bootstrap helpers: " + e, e);
        }
    }

    /** How many channels the agent counts as unwritable (the gate of its pipeline-write advice); 0 without it. */
    static int unwritableChannels() {
        Class<?> calls = bootstrapClass(NETTY_CALLS);
        if (calls == null) {
            return 0;
        }
        try {
            return ((java.util.concurrent.atomic.AtomicInteger) calls.getField("unwritableChannels").get(null)).get();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("unexpected agent bootstrap helpers: " + e, e);
        }
    }

    private static Object recorder(Class<?> hooks, Set<String> seen) {
        return Proxy.newProxyInstance(AgentCheck.class.getClassLoader(), new Class<?>[] {hooks},
                (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return method.getName().equals("equals") ? proxy == args[0]
                                : method.getName().equals("hashCode") ? System.identityHashCode(proxy) : "recorder";
                    }
                    seen.add(method.getName());
                    Class<?> type = method.getReturnType();
                    return type == long.class ? (Object) 0L : type == boolean.class ? (Object) Boolean.FALSE : null;
                });
    }

    /**
     * Swaps the agent's hooks for a recorder for a moment, drives a throwaway channel past its high-water mark,
     * and returns which hooks the inlined advice called. The agent's own hooks are put back before returning.
     */
    private static Set<String> adviceCalls() throws ReflectiveOperationException {
        Class<?> hooks = bootstrapClass(HOOKS);
        Field netty = bootstrapClass(NETTY_CALLS).getField("hooks");
        Object agentHooks = netty.get(null);
        Set<String> seen = ConcurrentHashMap.newKeySet();
        Object recorder = recorder(hooks, seen);
        netty.set(null, recorder);
        EmbeddedChannel ch = new EmbeddedChannel();
        // the recorder keeps no gate: the pipeline-write advice goes past its counter and filter only for a channel
        // the agent counts as unwritable, so count this one for the moment
        java.util.concurrent.atomic.AtomicInteger gate = (java.util.concurrent.atomic.AtomicInteger)
                bootstrapClass(NETTY_CALLS).getField("unwritableChannels").get(null);
        java.util.concurrent.atomic.AtomicIntegerArray filter = (java.util.concurrent.atomic.AtomicIntegerArray)
                bootstrapClass(NETTY_CALLS).getField("unwritableFilter").get(null);
        int h = System.identityHashCode(ch);
        int slot = (h ^ (h >>> 12)) & (filter.length() - 1);
        filter.incrementAndGet(slot);
        gate.incrementAndGet();
        try {
            ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
            ch.write(Unpooled.wrappedBuffer(new byte[64]));
            ch.write(Unpooled.wrappedBuffer(new byte[64]));
        } finally {
            netty.set(null, agentHooks);
            gate.decrementAndGet();
            filter.decrementAndGet(slot);
            ch.finishAndReleaseAll();
        }
        return seen;
    }

    private static Class<?> bootstrapClass(String name) {
        try {
            return Class.forName(name, false, null);
        } catch (ClassNotFoundException e) {
            return null;
        }
    }
}

package io.highwater.grpc;

import io.highwater.core.GatedMap;
import io.highwater.core.Monitor;
import io.highwater.core.StreamName;
import io.highwater.core.TrackedConnection;
import io.highwater.core.Tracker;
import io.highwater.grpc.bootstrap.GrpcCalls;
import io.highwater.grpc.bootstrap.GrpcHooks;

/**
 * gRPC calls onto the model, in layer {@code http2}: a call is one stream of its connection. Stop signal: the call's
 * queued bytes reach its on-ready threshold ({@code isReady()} turns false); go: they fall below it (gRPC's
 * {@code onReady}); progress: bytes written to the socket; pending bytes: gRPC's own count of bytes handed to the
 * transport and not yet written ({@code numSentBytesQueued}: its write queue, Netty's HTTP/2 flow controller and the
 * call's share of the channel's outbound buffer). A message sent while the call is not ready, with more than the
 * tolerance queued beyond the threshold, is an ignored write ({@code call_not_ready}) of the application frame that
 * sent it.
 */
final class GrpcAdapter implements GrpcHooks {

    /** Calls not ready at once, at most: beyond, a call is not watched (counted as a dropped connection). */
    private static final int MAX_NOT_READY = 10_000;

    private final Monitor monitor;
    private final GrpcAccess access = new GrpcAccess();
    private final Tracker tracker;
    private final GatedMap<Boolean> notReady = new GatedMap<>(GrpcCalls.notReadyCalls, true, MAX_NOT_READY);

    GrpcAdapter(Monitor monitor) {
        this.monitor = monitor;
        this.tracker = monitor.tracker(GrpcIntegration.LAYER, access);
    }

    @Override
    public void aboveThreshold(Object state, int queued) {
        if (notReady.contains(state) || !notReady.add(state, Boolean.TRUE)) {
            return;
        }
        TrackedConnection c = track(state, null, true, queued);
        if (c != null) {
            monitor.stop(c, queued);
            monitor.captureTrace(c);
        }
    }

    @Override
    public void sent(Object state, int queued, int threshold) {
        if (!notReady.mayContain(state)) {
            return;
        }
        TrackedConnection c = tracker.get(state);
        if (queued < threshold) {
            if (notReady.remove(state) != null && c != null) {
                monitor.go(c);
            }
        } else if (c != null) {
            monitor.progress(c);
        }
    }

    @Override
    public void deallocated(Object state, int queued) {
        if (notReady.remove(state) == null) {
            return;
        }
        TrackedConnection c = tracker.get(state);
        if (c != null) {
            monitor.closed(c, Math.max(0, queued));
        }
    }

    @Override
    public long beforeSend(Object call) {
        Object state = access.stateOfCall(call);
        if (state == null || !notReady.contains(state)) {
            return -1;
        }
        return Math.max(0, access.queued(state));
    }

    @Override
    public void afterSend(Object call, long queuedBefore) {
        Object state = access.stateOfCall(call);
        if (state == null) {
            return;
        }
        int threshold = access.threshold(state);
        if (queuedBefore < threshold) {
            // ready after all when the message was sent (the event loop drained it in between)
            return;
        }
        long now = Math.max(0, access.queued(state));
        TrackedConnection c = track(state, call, false, now);
        if (c != null) {
            c.observePending(now);
        }
        if (!monitor.beyondTolerance(queuedBefore, threshold)) {
            return;
        }
        // what this message added; 0 when gRPC has not flushed it yet (a unary client's single message)
        long bytes = Math.max(0, now - queuedBefore);
        if (c != null) {
            monitor.captureTrace(c);
        }
        monitor.ignoredWrite(c, GrpcIntegration.CALL_NOT_READY, bytes);
    }

    private TrackedConnection track(Object state, Object call, boolean atStopSignal, long pending) {
        TrackedConnection c = tracker.track(state, atStopSignal, pending);
        if (c != null && (c.stream() == null || (call != null && StreamName.UNKNOWN.equals(c.stream().rpcMethod)))) {
            c.stream(StreamName.rpc(access.fullMethodName(state, call)));
        }
        return c;
    }

    /** The timer: drops the entries of calls that were collected without being deallocated. */
    void tick() {
        notReady.sweep();
    }

    void reset() {
        notReady.clear();
    }
}

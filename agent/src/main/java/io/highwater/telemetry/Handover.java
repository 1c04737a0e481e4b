package io.highwater.telemetry;

import io.opentelemetry.sdk.common.export.HttpResponse;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Hands an export's outcome to the exporter until it took it. The exporter completes the export in the callback;
 * a callback that ran out of memory would leave the export incomplete for good, and the agent never starts an
 * export while the previous one of its signal is incomplete. So a callback that fails for lack of memory is
 * called again (the memory reserve let go first, pauses from 10 ms doubling to 1 s), and one that fails otherwise
 * is answered with the error, so that the export at least fails.
 */
final class Handover {

    private static final long PAUSE_MIN_MS = 10;
    private static final long PAUSE_MAX_MS = 1000;

    private Handover() {
    }

    /** @param reserve let go when a callback runs out of memory; may be null */
    static void response(Consumer<HttpResponse> onResponse, HttpResponse response, Consumer<Throwable> onError,
                         MemoryReserve reserve, BooleanSupplier stopped) {
        long pause = PAUSE_MIN_MS;
        while (true) {
            try {
                onResponse.accept(response);
                return;
            } catch (Throwable t) {
                if (!MemoryReserve.isOutOfMemory(t)) {
                    error(onError, t, reserve, stopped);
                    return;
                }
                pause = pause(pause, reserve, stopped);
                if (pause < 0) {
                    return;
                }
            }
        }
    }

    static void error(Consumer<Throwable> onError, Throwable error, MemoryReserve reserve, BooleanSupplier stopped) {
        long pause = PAUSE_MIN_MS;
        while (true) {
            try {
                onError.accept(error);
                return;
            } catch (Throwable t) {
                if (!MemoryReserve.isOutOfMemory(t)) {
                    return;
                }
                pause = pause(pause, reserve, stopped);
                if (pause < 0) {
                    return;
                }
            }
        }
    }

    /** Waits before the next try; -1 when the sender stopped or the thread was interrupted. */
    private static long pause(long pause, MemoryReserve reserve, BooleanSupplier stopped) {
        if (reserve != null) {
            reserve.release();
        }
        if (stopped.getAsBoolean()) {
            return -1;
        }
        try {
            // waiting for memory to be freed, not for another thread
            Thread.sleep(pause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
        return Math.min(pause * 2, PAUSE_MAX_MS);
    }
}

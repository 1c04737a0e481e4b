package com.example.ws;

import io.highwater.websocket.bootstrap.WebSocketHooks;

import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;

/**
 * An application's blocking send as the Tomcat advice reports it: begins, then waits on {@code release} (the
 * "socket"), then ends; run on a thread of its own so that the agent's timer reads this class's frame from its stack.
 */
public final class BlockingSender {

    private BlockingSender() {
    }

    public static Thread start(WebSocketHooks hooks, Object endpoint, ByteBuffer[] frame, CountDownLatch begun,
                               CountDownLatch release) {
        Thread t = new Thread(() -> sendBinary(hooks, endpoint, frame, begun, release), "blocking-sender");
        t.start();
        return t;
    }

    static void sendBinary(WebSocketHooks hooks, Object endpoint, ByteBuffer[] frame, CountDownLatch begun,
                           CountDownLatch release) {
        long token = hooks.tomcatBlockingBegins(endpoint, frame);
        begun.countDown();
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hooks.tomcatBlockingEnds(endpoint, token);
    }
}

package com.example.ws;

import io.highwater.websocket.bootstrap.WebSocketHooks;

import java.util.concurrent.CountDownLatch;

/**
 * An application's blocking send as the Tomcat advice reports it: its socket write finds the socket full (the
 * operation registers with the poller), then waits on {@code release} (the "socket"), then returns; run on a thread
 * of its own so that the agent's timer reads this class's frame from its stack.
 */
public final class BlockingSender {

    private BlockingSender() {
    }

    public static Thread start(WebSocketHooks hooks, Object endpoint, Object operation, CountDownLatch begun,
                               CountDownLatch release) {
        Thread t = new Thread(() -> sendBinary(hooks, endpoint, operation, begun, release), "blocking-sender");
        t.start();
        return t;
    }

    static void sendBinary(WebSocketHooks hooks, Object endpoint, Object operation, CountDownLatch begun,
                           CountDownLatch release) {
        hooks.tomcatSocketWaits(operation);
        begun.countDown();
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hooks.tomcatBlockingEnds(endpoint);
    }
}

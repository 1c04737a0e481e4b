package io.highwater.bench.footprint;

import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The client of bench/scripts/footprint.sh: opens {@code connections} TCP connections to the server with a small
 * receive buffer and never reads from them, so every server-side channel ends up under pressure. Prints
 * {@code opened <n>} and then waits to be killed.
 *
 * <p>Usage: {@code PressureClient <port> <connections>}
 */
public final class PressureClient {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        List<SocketChannel> open = new ArrayList<>(connections);
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        for (int i = 0; i < connections; i++) {
            SocketChannel ch = SocketChannel.open();
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            ch.connect(server);
            open.add(ch);
        }
        System.out.println("opened " + open.size());
        System.out.flush();
        Thread.currentThread().join();
    }
}

package io.highwater.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class KernelSendQueuesTest {

    private final Dropped dropped = new Dropped();
    private final ConnectionRegistry registry = new ConnectionRegistry(10, dropped);

    private TrackedConnection connection(String local, int localPort, String peer, int peerPort) {
        return registry.register(new Object(), TestLayers.NETTY, Probes.FIXED, new InetSocketAddress(peer, peerPort),
                new InetSocketAddress(local, localPort), true, 0, 0);
    }

    @Test
    void addressesAreDecodedFromTheKernelsWordOrder() throws Exception {
        assertThat(KernelSendQueues.decode("0100007F").getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(KernelSendQueues.decode("0000000000000000FFFF00000100007F").getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(KernelSendQueues.decode("00000000000000000000000001000000").getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1");
    }

    @Test
    void sendQueuesAreMatchedByBothEndsOfEachConnection(@TempDir Path dir) throws Exception {
        Path v4 = dir.resolve("tcp");
        Path v6 = dir.resolve("tcp6");
        Files.writeString(v4, String.join("\n",
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",
                "   1: 0100007F:1F90 0100007F:D431 01 0001A2B0:00000000 01:00000014 00000000     0        0 2 1",
                "   2: 0100007F:1F90 0100007F:D432 01 00000010:00000000 01:00000014 00000000     0        0 3 1",
                ""));
        Files.writeString(v6, String.join("\n",
                "  sl  local_address                         remote_address                        st tx_queue rx_queue",
                "   0: 0000000000000000FFFF00000100007F:1F91 0000000000000000FFFF00000100007F:D433 01 00002000:00000000 "
                        + "00:00000000 00000000     0        0 4 1",
                ""));
        TrackedConnection a = connection("127.0.0.1", 0x1F90, "127.0.0.1", 0xD431);
        TrackedConnection b = connection("127.0.0.1", 0x1F91, "127.0.0.1", 0xD433);
        TrackedConnection missing = connection("127.0.0.1", 0x1F90, "127.0.0.1", 0xD499);
        Map<TrackedConnection, Long> q = new KernelSendQueues(Arrays.asList(v4, v6)).read(Arrays.asList(a, b, missing));
        assertThat(q).containsEntry(a, 0x1A2B0L).containsEntry(b, 0x2000L).doesNotContainKey(missing);
    }
}

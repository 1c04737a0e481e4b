package io.highwater.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernel's share of a connection's backlog: bytes the process wrote that the peer has not acknowledged yet,
 * the {@code tx_queue} column of Linux's {@code /proc/net/tcp} and {@code /proc/net/tcp6} (what {@code ss} calls
 * Send-Q), matched by local and remote address and port. Read at collection time, for a handful of connections
 * (the top N): one pass over each file, decoding addresses only for lines whose ports match.
 */
public final class KernelSendQueues {

    private final List<Path> files;

    KernelSendQueues(List<Path> files) {
        this.files = files;
    }

    /** The Linux tables, or null where they cannot be read (not Linux, no /proc). */
    public static KernelSendQueues linux() {
        Path v4 = Paths.get("/proc/net/tcp");
        Path v6 = Paths.get("/proc/net/tcp6");
        if (!Files.isReadable(v4) && !Files.isReadable(v6)) {
            return null;
        }
        return new KernelSendQueues(Arrays.asList(v4, v6));
    }

    /** Send-queue bytes of each connection that the kernel lists; connections it does not list are left out. */
    public Map<TrackedConnection, Long> read(List<TrackedConnection> connections) {
        Map<String, TrackedConnection> wanted = new HashMap<>();
        Set<Integer> ports = new HashSet<>();
        for (TrackedConnection c : connections) {
            InetSocketAddress local = c.localAddress();
            InetSocketAddress peer = c.peerSocketAddress();
            if (local != null && peer != null && local.getAddress() != null && peer.getAddress() != null) {
                wanted.put(key(local.getAddress(), local.getPort(), peer.getAddress(), peer.getPort()), c);
                ports.add(local.getPort());
            }
        }
        Map<TrackedConnection, Long> out = new IdentityHashMap<>();
        if (wanted.isEmpty()) {
            return out;
        }
        for (Path file : files) {
            if (!Files.isReadable(file)) {
                continue;
            }
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
                r.readLine();
                for (String line; (line = r.readLine()) != null && out.size() < wanted.size(); ) {
                    match(line, ports, wanted, out);
                }
            } catch (IOException | RuntimeException e) {
                // a table that changes shape under us is skipped for this collection
            }
        }
        return out;
    }

    private static void match(String line, Set<Integer> ports, Map<String, TrackedConnection> wanted,
                              Map<TrackedConnection, Long> out) {
        String[] f = line.trim().split("\\s+", 6);
        if (f.length < 5) {
            return;
        }
        String local = f[1];
        String remote = f[2];
        int lc = local.indexOf(':');
        int rc = remote.indexOf(':');
        int localPort = Integer.parseInt(local.substring(lc + 1), 16);
        if (!ports.contains(localPort)) {
            return;
        }
        int remotePort = Integer.parseInt(remote.substring(rc + 1), 16);
        String key;
        try {
            key = key(decode(local.substring(0, lc)), localPort, decode(remote.substring(0, rc)), remotePort);
        } catch (UnknownHostException e) {
            return;
        }
        TrackedConnection c = wanted.get(key);
        if (c != null) {
            String queues = f[4];
            out.put(c, Long.parseLong(queues.substring(0, queues.indexOf(':')), 16));
        }
    }

    /** The kernel prints addresses as 32-bit words in host (little-endian) order; IPv4-mapped IPv6 becomes IPv4. */
    static InetAddress decode(String hex) throws UnknownHostException {
        byte[] b = new byte[hex.length() / 2];
        for (int word = 0; word < b.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                b[word * 4 + i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        return InetAddress.getByAddress(b);
    }

    private static String key(InetAddress local, int localPort, InetAddress remote, int remotePort) {
        return canonical(local) + ":" + localPort + ">" + canonical(remote) + ":" + remotePort;
    }

    /** {@code InetAddress.getByAddress} already turns IPv4-mapped IPv6 bytes into an IPv4 address. */
    private static String canonical(InetAddress a) {
        return a.getHostAddress();
    }
}

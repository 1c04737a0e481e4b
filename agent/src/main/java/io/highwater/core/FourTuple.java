package io.highwater.core;

import java.net.SocketAddress;
import java.util.Objects;

/** A connection named by its addresses: equal by value, unique among the live TCP connections of one process. */
final class FourTuple {

    private final SocketAddress local;
    private final SocketAddress peer;

    FourTuple(SocketAddress local, SocketAddress peer) {
        this.local = local;
        this.peer = peer;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FourTuple)) {
            return false;
        }
        FourTuple t = (FourTuple) o;
        return Objects.equals(local, t.local) && Objects.equals(peer, t.peer);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(local) * 31 + Objects.hashCode(peer);
    }
}

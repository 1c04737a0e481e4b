package io.highwater.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Stream names are attribute values: normalised like routes, and bounded like call sites. */
class StreamNameTest {

    @AfterEach
    void forget() {
        StreamName.forgetSeen();
    }

    @Test
    void aPathLosesItsQueryAndItsIdentifiers() {
        assertThat(StreamName.normalisePath("/orders/12345/items?page=2")).isEqualTo("/orders/{id}/items");
        assertThat(StreamName.normalisePath("/blob/3f2a9c4e8b7d6a5f4e3d2c1b")).isEqualTo("/blob/{id}");
        assertThat(StreamName.normalisePath("/users/123e4567-e89b-12d3-a456-426614174000/feed"))
                .isEqualTo("/users/{id}/feed");
        assertThat(StreamName.normalisePath("/events")).isEqualTo("/events");
        assertThat(StreamName.normalisePath("/")).isEqualTo("/");
        assertThat(StreamName.normalisePath(null)).isEqualTo(StreamName.UNKNOWN);
        assertThat(StreamName.normalisePath("/" + "route".repeat(40))).hasSize(StreamName.MAX_LENGTH);
    }

    @Test
    void aGrpcMethodIsSplitIntoServiceAndMethod() {
        StreamName n = StreamName.rpc("grpc.health.v1.Health/Watch");
        assertThat(n.isRpc()).isTrue();
        assertThat(n.rpcService).isEqualTo("grpc.health.v1.Health");
        assertThat(n.rpcMethod).isEqualTo("Watch");
        StreamName unknown = StreamName.rpc(null);
        assertThat(unknown.rpcService).isEqualTo(StreamName.UNKNOWN);
        assertThat(unknown.rpcMethod).isEqualTo(StreamName.UNKNOWN);
    }

    @Test
    void newValuesBeyondTheBoundReadOther() {
        // paths are process-wide: fill the set with values of this test's own, then one more is "other"
        for (int i = 0; i < StreamName.MAX_VALUES; i++) {
            StreamName.path("/bound-test/p" + i + "x");
        }
        assertThat(StreamName.path("/bound-test/one-more").urlPath).isEqualTo(StreamName.OTHER);
        assertThat(StreamName.path("/bound-test/p0x").urlPath).isEqualTo("/bound-test/p0x");
    }
}

package io.highwater.http2;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The paths of recent requests, by connection and stream, in a table that never grows. */
class PathTableTest {

    @Test
    void aStreamFindsItsRequestsPathAndNoOtherStreamsOrConnections() {
        PathTable t = new PathTable();
        Object a = new Object();
        Object b = new Object();
        t.put(a, 3, "/export/rows");
        t.put(b, 3, "/events");
        t.put(a, 5, "/health");
        assertThat(t.get(a, 3)).isEqualTo("/export/rows");
        assertThat(t.get(b, 3)).isEqualTo("/events");
        assertThat(t.get(a, 5)).isEqualTo("/health");
        assertThat(t.get(a, 7)).isNull();
        assertThat(t.get(new Object(), 3)).isNull();
    }

    @Test
    void laterRequestsTakeTheSlotsOfOldOnesAndTheTableStaysBounded() {
        PathTable t = new PathTable();
        Object c = new Object();
        for (int id = 1; id < 200_000; id += 2) {
            t.put(c, id, "/p" + id);
        }
        assertThat(t.get(c, 199_999)).isEqualTo("/p199999");
        // the first streams' slots were reused by later ones: their own path or nothing, never another stream's
        int found = 0;
        for (int id = 1; id < 20_000; id += 2) {
            String p = t.get(c, id);
            if (p != null) {
                assertThat(p).isEqualTo("/p" + id);
                found++;
            }
        }
        assertThat(found).as("paths of the first 10,000 of 100,000 streams still there").isLessThan(8192);
    }
}

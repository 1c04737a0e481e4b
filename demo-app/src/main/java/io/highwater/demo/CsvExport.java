package io.highwater.demo;

import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * The reporting service's CSV export, generated row by row as it is read: never held in memory, whatever its size.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #read} yields exactly {@link #totalBytes()} bytes, then end of data.</li>
 *   <li>For {@code totalBytes >= }{@link #MIN_BYTES} the output is well-formed CSV: the header
 *       {@value #HEADER_TEXT}, then rows with ids 1, 2, 3 … in the same eight columns, every line ending in
 *       {@code \n}. To land on the exact byte count the last row's {@code note} column is padded with dots.</li>
 *   <li>Below {@link #MIN_BYTES} the output is the first {@code totalBytes} bytes of the {@code MIN_BYTES}
 *       export (too small for a whole header and row).</li>
 *   <li>Deterministic: the same size gives the same bytes, however it is read.</li>
 * </ul>
 * Not thread-safe: one instance per download, used by one thread at a time.
 */
public final class CsvExport {
    static final String HEADER_TEXT = "id,customer,amount,currency,created_at,region,status,note\n";
    private static final byte[] HEADER = HEADER_TEXT.getBytes(StandardCharsets.US_ASCII);

    private static final byte[][] CUSTOMERS = ascii(
            "Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Foods", "Hooli",
            "Vandelay Industries", "Soylent", "Tyrell Systems", "Cyberdyne", "Massive Dynamic", "Oscorp",
            "Wonka Confectionery", "Pied Piper", "Aperture Labs");
    private static final byte[][] CURRENCIES = ascii("EUR", "USD", "GBP", "CHF");
    private static final byte[][] REGIONS = ascii("eu-west", "us-east", "ap-south", "sa-east");
    private static final byte[][] STATUSES = ascii("paid", "pending", "refunded", "disputed");
    private static final byte[][] NOTES = ascii("", "", "", "", "", "", "net 30", "po attached", "second reminder",
            "partial payment");

    /** 2024-01-01T00:00:00Z; row {@code id} is created {@code 17 * id} seconds later, wrapping after ten years. */
    private static final long EPOCH_SECOND = 1_704_067_200L;
    private static final long TEN_YEARS = 10L * 365 * 24 * 3600;
    private static final long MAX_CENTS = 10_000_000L;

    /** An upper bound on the length of any ordinary row, newline included. */
    static final int MAX_ROW = 19 + 1 + longest(CUSTOMERS) + 1 + 8 + 1 + longest(CURRENCIES) + 1
            + "2024-01-01T00:00:00Z".length() + 1 + longest(REGIONS) + 1 + longest(STATUSES) + 1
            + longest(NOTES) + 1;

    /** The smallest size that holds the header and one row; smaller exports are a prefix of this one. */
    public static final int MIN_BYTES = HEADER.length + MAX_ROW;

    private final long total;
    private long position;
    private long nextId = 1;
    private boolean headerDone;
    /** The line being handed out: {@code line[linePos, lineLen)} is still to be read. */
    private final byte[] line = new byte[Math.max(2 * MAX_ROW, MIN_BYTES)];
    private int lineLen;
    private int linePos;
    /** Bytes not yet put into {@link #line}. */
    private long unproduced;

    public CsvExport(long totalBytes) {
        if (totalBytes < 0) {
            throw new IllegalArgumentException("negative size: " + totalBytes);
        }
        this.total = totalBytes;
        this.unproduced = totalBytes;
    }

    public long totalBytes() {
        return total;
    }

    /** Bytes handed out so far. */
    public long position() {
        return position;
    }

    public long remaining() {
        return total - position;
    }

    public boolean hasMore() {
        return position < total;
    }

    /**
     * Copies the next {@code min(len, remaining())} bytes into {@code dst} and returns that count ({@code -1} at
     * the end, when {@code len > 0}). Rows may be split between two reads.
     */
    public int read(byte[] dst, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (!hasMore()) {
            return -1;
        }
        int copied = 0;
        while (copied < len && hasMore()) {
            if (linePos == lineLen) {
                produceLine();
            }
            int n = Math.min(len - copied, lineLen - linePos);
            System.arraycopy(line, linePos, dst, off + copied, n);
            linePos += n;
            copied += n;
            position += n;
        }
        return copied;
    }

    private void produceLine() {
        linePos = 0;
        if (!headerDone) {
            headerDone = true;
            if (total < MIN_BYTES) {
                // too small for a header and a row: hand out a prefix of the smallest complete export
                System.arraycopy(HEADER, 0, line, 0, HEADER.length);
                int rowLen = row(line, HEADER.length, nextId++, MAX_ROW);
                assert HEADER.length + rowLen == MIN_BYTES;
                lineLen = (int) total;
                unproduced = 0;
                return;
            }
            System.arraycopy(HEADER, 0, line, 0, HEADER.length);
            lineLen = HEADER.length;
        } else if (unproduced >= 2L * MAX_ROW) {
            lineLen = row(line, 0, nextId++, -1);
        } else {
            // the last row: MAX_ROW <= unproduced < 2 * MAX_ROW, padded to land exactly on the total
            lineLen = row(line, 0, nextId++, (int) unproduced);
        }
        unproduced -= lineLen;
    }

    /**
     * Writes row {@code id} at {@code b[at]} and returns its length. With {@code exactLength >= 0} the note column
     * is replaced by dots so that the row, newline included, is exactly that long.
     */
    private static int row(byte[] b, int at, long id, int exactLength) {
        long h = mix(id);
        int p = at;
        p = putLong(b, p, id);
        b[p++] = ',';
        p = put(b, p, CUSTOMERS[(int) ((h >>> 8) % CUSTOMERS.length)]);
        b[p++] = ',';
        long cents = (h >>> 16) % MAX_CENTS;
        p = putLong(b, p, cents / 100);
        b[p++] = '.';
        b[p++] = (byte) ('0' + (cents % 100) / 10);
        b[p++] = (byte) ('0' + cents % 10);
        b[p++] = ',';
        p = put(b, p, CURRENCIES[(int) ((h >>> 40) % CURRENCIES.length)]);
        b[p++] = ',';
        p = putTimestamp(b, p, EPOCH_SECOND + Math.floorMod(id * 17, TEN_YEARS));
        b[p++] = ',';
        p = put(b, p, REGIONS[(int) ((h >>> 44) % REGIONS.length)]);
        b[p++] = ',';
        p = put(b, p, STATUSES[(int) ((h >>> 48) % STATUSES.length)]);
        b[p++] = ',';
        if (exactLength < 0) {
            p = put(b, p, NOTES[(int) ((h >>> 52) % NOTES.length)]);
        } else {
            int padding = exactLength - (p - at) - 1;
            if (padding < 0) {
                throw new IllegalStateException("row " + id + " does not fit in " + exactLength + " bytes");
            }
            Arrays.fill(b, p, p + padding, (byte) '.');
            p += padding;
        }
        b[p++] = '\n';
        return p - at;
    }

    private static int putTimestamp(byte[] b, int p, long epochSecond) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        p = putPadded(b, p, t.getYear(), 4);
        b[p++] = '-';
        p = putPadded(b, p, t.getMonthValue(), 2);
        b[p++] = '-';
        p = putPadded(b, p, t.getDayOfMonth(), 2);
        b[p++] = 'T';
        p = putPadded(b, p, t.getHour(), 2);
        b[p++] = ':';
        p = putPadded(b, p, t.getMinute(), 2);
        b[p++] = ':';
        p = putPadded(b, p, t.getSecond(), 2);
        b[p++] = 'Z';
        return p;
    }

    private static int putPadded(byte[] b, int p, int value, int width) {
        for (int i = width - 1; i >= 0; i--) {
            b[p + i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return p + width;
    }

    private static int putLong(byte[] b, int p, long value) {
        if (value == 0) {
            b[p] = '0';
            return p + 1;
        }
        int digits = 0;
        for (long v = value; v > 0; v /= 10) {
            digits++;
        }
        for (int i = p + digits - 1; i >= p; i--) {
            b[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return p + digits;
    }

    private static int put(byte[] b, int p, byte[] text) {
        System.arraycopy(text, 0, b, p, text.length);
        return p + text.length;
    }

    /** A 64-bit finaliser (the SplitMix64 mixing step): spreads consecutive ids over all bits. Non-negative. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return (z ^ (z >>> 31)) >>> 1;
    }

    private static byte[][] ascii(String... values) {
        byte[][] out = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i].getBytes(StandardCharsets.US_ASCII);
        }
        return out;
    }

    private static int longest(byte[][] values) {
        int max = 0;
        for (byte[] v : values) {
            max = Math.max(max, v.length);
        }
        return max;
    }
}

package io.highwater.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CsvExportTest {

    @Test
    void everySizeIsHonouredToTheByteAndEveryLineIsWellFormed() {
        for (long size = CsvExport.MIN_BYTES; size < CsvExport.MIN_BYTES + 3L * CsvExport.MAX_ROW; size++) {
            byte[] body = readAll(new CsvExport(size), 4096);
            assertThat(body).as("size %d", size).hasSize((int) size);
            assertWellFormed(new String(body, StandardCharsets.US_ASCII));
        }
        for (long size : new long[] {1_000_000, (2L << 20) + 7}) {
            byte[] body = readAll(new CsvExport(size), 16 * 1024);
            assertThat((long) body.length).isEqualTo(size);
            assertWellFormed(new String(body, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void howItIsReadDoesNotChangeTheBytes() {
        long size = 300_001;
        byte[] big = readAll(new CsvExport(size), 16 * 1024);
        assertThat(readAll(new CsvExport(size), 1)).isEqualTo(big);
        assertThat(readAll(new CsvExport(size), 7)).isEqualTo(big);
        assertThat(readAll(new CsvExport(size), 1 << 20)).isEqualTo(big);
    }

    @Test
    void exportsTooSmallForAHeaderAndARowArePrefixesOfTheSmallestOne() {
        byte[] smallest = readAll(new CsvExport(CsvExport.MIN_BYTES), 100);
        for (int size = 0; size < CsvExport.MIN_BYTES; size++) {
            assertThat(readAll(new CsvExport(size), 13)).isEqualTo(Arrays.copyOf(smallest, size));
        }
        CsvExport empty = new CsvExport(0);
        assertThat(empty.hasMore()).isFalse();
        assertThat(empty.read(new byte[10], 0, 10)).isEqualTo(-1);
    }

    @Test
    void readReportsPositionAndEnd() {
        CsvExport export = new CsvExport(50_000);
        byte[] buf = new byte[30_000];
        assertThat(export.read(buf, 0, buf.length)).isEqualTo(30_000);
        assertThat(export.position()).isEqualTo(30_000);
        assertThat(export.read(buf, 0, buf.length)).isEqualTo(20_000);
        assertThat(export.remaining()).isZero();
        assertThat(export.read(buf, 0, buf.length)).isEqualTo(-1);
    }

    static byte[] readAll(CsvExport export, int chunk) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[chunk];
        for (int n; (n = export.read(buf, 0, buf.length)) >= 0; ) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** id, customer, amount, currency, created_at, region, status, note */
    private static final Pattern ROW = Pattern.compile(
            "(\\d+),([A-Za-z][A-Za-z ]*),(\\d+\\.\\d\\d),([A-Z]{3}),"
                    + "(20\\d\\d-[01]\\d-[0-3]\\dT[0-2]\\d:[0-5]\\d:[0-5]\\dZ),([a-z]+-[a-z]+),([a-z]+),([a-z0-9 .]*)");

    static void assertWellFormed(String csv) {
        assertThat(csv).startsWith(CsvExport.HEADER_TEXT).endsWith("\n");
        String[] lines = csv.split("\n", -1);
        assertThat(lines.length).as("a header and at least one row").isGreaterThanOrEqualTo(3);
        for (int i = 1; i < lines.length - 1; i++) {
            Matcher m = ROW.matcher(lines[i]);
            if (!m.matches() || Long.parseLong(m.group(1)) != i) {
                assertThat(lines[i]).as("line %d: id %d and eight well-formed columns", i, i).isNull();
            }
            if (i == 1 || i == lines.length - 2) {
                assertThat(Instant.parse(m.group(5))).isAfterOrEqualTo(Instant.parse("2024-01-01T00:00:00Z"));
            }
        }
        assertThat(lines[lines.length - 2]).as("the last row is padded with dots").matches(".*,\\.*");
    }
}

package io.highwater.it.apps.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Arrays;

/**
 * The servlet layer's export endpoints, each answering {@code ?bytes=N&chunk=M} with N bytes of CSV-ish rows. Written
 * once, against {@code jakarta.servlet}: the build generates {@code io.highwater.it.apps.javax.ExportServlets} for
 * {@code javax.servlet} from this file (integration-tests/pom.xml rewrites the package line and the
 * {@code import jakarta.servlet.} lines, nothing else), so use no servlet type by its qualified name here.
 * <ul>
 *   <li>{@code /blocking}: plain blocking {@code write} in a loop (the request thread waits for the client);</li>
 *   <li>{@code /respecting}: async, writes only while {@code isReady()} and resumes in {@code onWritePossible};</li>
 *   <li>{@code /ignoring}: async, asks {@code isReady()} but writes anyway; the container refuses the write
 *       ({@code IllegalStateException} / {@code WritePendingException}) and the export ends.</li>
 * </ul>
 */
public final class ExportServlets {

    private ExportServlets() {
    }

    static long param(HttpServletRequest req, String name, long dflt) {
        String v = req.getParameter(name);
        return v == null ? dflt : Long.parseLong(v);
    }

    static byte[] rows(int chunk) {
        byte[] b = new byte[chunk];
        Arrays.fill(b, (byte) 'x');
        for (int i = 63; i < chunk; i += 64) {
            b[i] = '\n';
        }
        return b;
    }

    /** Blocking writes. */
    public static final class Blocking extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            long total = param(req, "bytes", 1 << 20);
            byte[] row = rows((int) param(req, "chunk", 16 * 1024));
            resp.setContentType("text/csv");
            resp.setContentLengthLong(total);
            ServletOutputStream out = resp.getOutputStream();
            for (long left = total; left > 0; ) {
                int n = (int) Math.min(row.length, left);
                out.write(row, 0, n);
                left -= n;
            }
            out.flush();
        }
    }

    /** Async, honouring isReady(). */
    public static final class Respecting extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            long total = param(req, "bytes", 1 << 20);
            byte[] row = rows((int) param(req, "chunk", 16 * 1024));
            resp.setContentType("text/csv");
            resp.setContentLengthLong(total);
            AsyncContext async = req.startAsync();
            async.setTimeout(0);
            ServletOutputStream out = resp.getOutputStream();
            out.setWriteListener(new WriteListener() {
                private long left = total;

                @Override
                public void onWritePossible() throws IOException {
                    while (out.isReady()) {
                        if (left == 0) {
                            async.complete();
                            return;
                        }
                        int n = (int) Math.min(row.length, left);
                        out.write(row, 0, n);
                        left -= n;
                    }
                }

                @Override
                public void onError(Throwable t) {
                    async.complete();
                }
            });
        }
    }

    /** Async, ignoring isReady(). */
    public static final class Ignoring extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            long total = param(req, "bytes", 1 << 20);
            byte[] row = rows((int) param(req, "chunk", 16 * 1024));
            resp.setContentType("text/csv");
            resp.setContentLengthLong(total);
            AsyncContext async = req.startAsync();
            async.setTimeout(0);
            ServletOutputStream out = resp.getOutputStream();
            out.setWriteListener(new WriteListener() {
                private boolean started;

                @Override
                public void onWritePossible() {
                    if (started) {
                        return;
                    }
                    started = true;
                    try {
                        writeRowsIgnoringReadiness(out, row, total);
                    } catch (IOException | RuntimeException refused) {
                        System.out.println("REFUSED " + refused);
                    }
                    async.complete();
                }

                @Override
                public void onError(Throwable t) {
                    async.complete();
                }
            });
        }
    }

    /** The bug: isReady() is asked, and its answer ignored. */
    static void writeRowsIgnoringReadiness(ServletOutputStream out, byte[] row, long total) throws IOException {
        for (long left = total; left > 0; ) {
            boolean ready = out.isReady();
            int n = (int) Math.min(row.length, left);
            out.write(row, 0, n);
            left -= n;
            if (!ready) {
                System.out.println("WROTE-WHILE-NOT-READY");
            }
        }
    }
}

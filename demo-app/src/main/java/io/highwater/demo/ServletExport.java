package io.highwater.demo;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/**
 * The lesson on servlets: one CSV export streamed to a slow phone three ways, on an embedded Tomcat
 * ({@link ServletServer} maps them to {@code /servlet/blocking}, {@code /servlet/respecting} and
 * {@code /servlet/ignoring}).
 *
 * <p>A blocking servlet cannot ignore backpressure: its request thread waits inside {@code write()} until the client
 * reads, which is fine for one phone and exhausts the container's thread pool for a hundred. An async servlet frees
 * that thread, and takes on the duty to wait itself: {@link ServletOutputStream#isReady()} is the "stop", and
 * {@link WriteListener#onWritePossible()} the "go". A write made while not ready is the ignored signal: Tomcat refuses
 * it with an {@code IllegalStateException} (the agent counts it first, naming the method that wrote), other containers
 * refuse it otherwise or hold the bytes.
 */
final class ServletExport {
    /** Bytes per {@code write}. */
    static final int CHUNK_SIZE = 16 * 1024;

    private ServletExport() {
    }

    /** Blocking writes: safe for memory; the request thread waits in {@code write} as long as the phone dawdles. */
    static final class Blocking extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            CsvExport rows = csvResponse(req, resp);
            ServletOutputStream out = resp.getOutputStream();
            byte[] chunk = new byte[CHUNK_SIZE];
            while (rows.hasMore()) {
                int n = rows.read(chunk, 0, chunk.length);
                out.write(chunk, 0, n);
            }
            out.flush();
        }
    }

    /**
     * The fix, async: writes only while {@code isReady()} and returns when it is not; the container calls
     * {@code onWritePossible()} again once the client has read enough. No thread waits, no bytes pile up.
     */
    static final class Respecting extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            CsvExport rows = csvResponse(req, resp);
            AsyncContext async = startAsync(req);
            ServletOutputStream out = resp.getOutputStream();
            byte[] chunk = new byte[CHUNK_SIZE];
            out.setWriteListener(new WriteListener() {
                @Override
                public void onWritePossible() throws IOException {
                    while (out.isReady()) {
                        if (!rows.hasMore()) {
                            async.complete();
                            return;
                        }
                        int n = rows.read(chunk, 0, chunk.length);
                        out.write(chunk, 0, n);
                    }
                }

                @Override
                public void onError(Throwable t) {
                    async.complete();
                }
            });
        }
    }

    /** The bug, async: starts {@link #writeRowsIgnoringReadiness} once, and it never gives the thread back to wait. */
    static final class Ignoring extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            CsvExport rows = csvResponse(req, resp);
            AsyncContext async = startAsync(req);
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
                        writeRowsIgnoringReadiness(out, rows);
                    } catch (IOException | RuntimeException refused) {
                        ReportingService.say("servlet export ignoring: broke off after "
                                + Units.size(rows.position()) + ": " + refused);
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

    /** The bug itself: {@code isReady()} is asked, as the async API demands, and its answer ignored. */
    static void writeRowsIgnoringReadiness(ServletOutputStream out, CsvExport rows) throws IOException {
        byte[] chunk = new byte[CHUNK_SIZE];
        while (rows.hasMore()) {
            out.isReady();
            int n = rows.read(chunk, 0, chunk.length);
            out.write(chunk, 0, n);
        }
    }

    /** The rows the request asked for ({@code bytes}, default 400m), with the response's headers set for them. */
    private static CsvExport csvResponse(HttpServletRequest req, HttpServletResponse resp) {
        String bytes = req.getParameter("bytes");
        long n = bytes == null ? ReportingService.DEFAULT_EXPORT_BYTES : Units.parseSize(bytes);
        CsvExport rows = new CsvExport(Math.max(n, CsvExport.MIN_BYTES));
        resp.setContentType("text/csv");
        resp.setContentLengthLong(rows.totalBytes());
        return rows;
    }

    /** Async mode without a timeout: a phone may take minutes. */
    private static AsyncContext startAsync(HttpServletRequest req) {
        AsyncContext async = req.startAsync();
        async.setTimeout(0);
        return async;
    }
}

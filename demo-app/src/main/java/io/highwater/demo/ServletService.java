package io.highwater.demo;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The reporting service's servlet endpoints, on an embedded Tomcat 11 ({@code jakarta.servlet}): the same CSV
 * export ({@link CsvExport}) as the Netty endpoints, written three ways.
 *
 * <ul>
 *   <li>{@code GET /servlet/blocking?bytes=N}: plain blocking {@code write} in a loop. It cannot ignore
 *       backpressure: a slow client makes the request thread wait inside the write, which is what exhausts a
 *       container's thread pool. The agent shows those threads as blocked connections and their waits.</li>
 *   <li>{@code GET /servlet/respecting?bytes=N}: async, writes only while {@code isReady()} and resumes in
 *       {@code onWritePossible()}: no thread waits and no ignored writes.</li>
 *   <li>{@code GET /servlet/ignoring?bytes=N}: async, asks {@code isReady()} and writes anyway
 *       ({@link #writeRowsIgnoringReadiness}). Tomcat refuses a write made while not ready with an
 *       {@code IllegalStateException}, so the export breaks off: the agent counts the ignored write (before Tomcat
 *       throws) and names this method.</li>
 * </ul>
 *
 * Responses carry a {@code Content-Length}; rows are written in {@value #CHUNK_SIZE}-byte writes.
 */
public final class ServletService implements AutoCloseable {

    static final int CHUNK_SIZE = 16 * 1024;

    /**
     * Tomcat logs its start and stop at INFO through java.util.logging, eight lines that would crowd the demo's own;
     * held here because the log manager keeps loggers only weakly, and a collected logger forgets its level.
     */
    private static final java.util.logging.Logger[] QUIET = {
        java.util.logging.Logger.getLogger("org.apache.catalina"),
        java.util.logging.Logger.getLogger("org.apache.coyote"),
        java.util.logging.Logger.getLogger("org.apache.tomcat"),
    };

    private final Tomcat tomcat;
    private final Connector connector;
    private final Path baseDir;

    private ServletService(String host, int port) throws LifecycleException, IOException {
        for (java.util.logging.Logger l : QUIET) {
            l.setLevel(java.util.logging.Level.WARNING);
        }
        baseDir = Files.createTempDirectory("highwater-demo-tomcat");
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        connector = new Connector("HTTP/1.1");
        connector.setPort(port);
        connector.setProperty("address", host);
        tomcat.setConnector(connector);
        Context ctx = tomcat.addContext("", null);
        if (ctx instanceof StandardContext) {
            // nothing of the demo's is loaded by the context's class loader: the leak checks at stop would only warn
            // that the JDK's internals are closed to them
            ((StandardContext) ctx).setClearReferencesThreadLocals(false);
            ((StandardContext) ctx).setClearReferencesRmiTargets(false);
        }
        add(ctx, "blocking", new Blocking());
        add(ctx, "respecting", new Respecting());
        add(ctx, "ignoring", new Ignoring());
        tomcat.start();
    }

    /** Starts Tomcat on {@code host:port} (0: a free port). */
    public static ServletService start(String host, int port) throws LifecycleException, IOException {
        return new ServletService(host, port);
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** {@code Apache Tomcat/11.0.x}. */
    static String version() {
        return ServerInfo.getServerInfo();
    }

    @Override
    public void close() {
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            ReportingService.say("servlet endpoints: stopping Tomcat failed: " + e);
        }
        try (var files = Files.walk(baseDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory left behind
        }
    }

    private static void add(Context ctx, String name, HttpServlet servlet) {
        Wrapper w = Tomcat.addServlet(ctx, name, servlet);
        w.setAsyncSupported(true);
        ctx.addServletMapping("/servlet/" + name, name);
    }

    /** The rows this request asked for, with the response's headers set for them. */
    private static CsvExport csv(HttpServletRequest req, HttpServletResponse resp) {
        CsvExport rows = new CsvExport(bytes(req));
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

    static long bytes(HttpServletRequest req) {
        String v = req.getParameter("bytes");
        long n = v == null ? ReportingService.DEFAULT_EXPORT_BYTES : Units.parseSize(v);
        return Math.max(n, CsvExport.MIN_BYTES);
    }

    /** Blocking writes: the request thread waits in {@code write} while the client does not read. */
    static final class Blocking extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            CsvExport rows = csv(req, resp);
            ServletOutputStream out = resp.getOutputStream();
            byte[] chunk = new byte[CHUNK_SIZE];
            while (rows.hasMore()) {
                int n = rows.read(chunk, 0, chunk.length);
                out.write(chunk, 0, n);
            }
            out.flush();
        }
    }

    /** Async, honouring {@code isReady()}: the fix. */
    static final class Respecting extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            CsvExport rows = csv(req, resp);
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

    /** Async, ignoring {@code isReady()}: the bug. */
    static final class Ignoring extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            CsvExport rows = csv(req, resp);
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

    /** The bug: {@code isReady()} is asked, and its answer ignored. */
    static void writeRowsIgnoringReadiness(ServletOutputStream out, CsvExport rows) throws IOException {
        byte[] chunk = new byte[CHUNK_SIZE];
        while (rows.hasMore()) {
            out.isReady();
            int n = rows.read(chunk, 0, chunk.length);
            out.write(chunk, 0, n);
        }
    }
}

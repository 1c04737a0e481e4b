package io.highwater.it.apps.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
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
 *   <li>{@code /unasked}: async, never asks {@code isReady()}: a thread of its own makes {@code writes=N} writes, one
 *       every {@code interval=MS} milliseconds, catches what the container throws and counts the container's own
 *       refusals, then prints {@code UNASKED refused=R accepted=A acceptedBytes=B failed=F other=O} (the ground
 *       truth the agent's count is checked against) and completes. {@code buffers=true} writes with
 *       {@code write(ByteBuffer)}, found on the stream's class (Servlet 6.1; Tomcat 9's, Jetty's and Undertow's
 *       own), instead of {@code write(byte[], int, int)}.</li>
 *   <li>{@code /large}: blocking, writes the whole body as one array ({@code bytes=N}), then prints
 *       {@code LARGE wrote=N}.</li>
 * </ul>
 * {@code /respecting} prints {@code RESPECTING-NOT-READY written=N} each time {@code isReady()} returns false, with
 * the bytes the container has accepted so far.
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
                    System.out.println("RESPECTING-NOT-READY written=" + (total - left));
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

    /** Async, never asking isReady(): writes from a thread of its own, counting what the container refuses. */
    public static final class Unasked extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            int writes = (int) param(req, "writes", 100);
            long interval = param(req, "interval", 5);
            boolean buffers = Boolean.parseBoolean(req.getParameter("buffers"));
            byte[] row = rows((int) param(req, "chunk", 16 * 1024));
            resp.setContentType("text/csv");
            resp.setContentLengthLong((long) writes * row.length);
            AsyncContext async = req.startAsync();
            async.setTimeout(0);
            ServletOutputStream out = resp.getOutputStream();
            out.setWriteListener(new WriteListener() {
                private boolean started;

                @Override
                public void onWritePossible() {
                    // the container calls again once a refused write's bytes drained: the writer does not listen
                    if (started) {
                        return;
                    }
                    started = true;
                    Thread writer = new Thread(() -> {
                        try {
                            Method writeBuffer = buffers ? out.getClass().getMethod("write", ByteBuffer.class) : null;
                            System.out.println("UNASKED "
                                    + writeRowsWithoutAskingReadiness(out, writeBuffer, row, writes, interval));
                        } catch (NoSuchMethodException e) {
                            System.out.println("UNASKED-OTHER " + e);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        async.complete();
                    }, "unasked-writer");
                    writer.setDaemon(true);
                    writer.start();
                }

                @Override
                public void onError(Throwable t) {
                    async.complete();
                }
            });
        }
    }

    /**
     * The bug without the question: writes every {@code interval} ms and never asks {@code isReady()}, with
     * {@code write(byte[], int, int)}, or with {@code writeBuffer} ({@code write(ByteBuffer)}) when given. Returns what
     * happened to the writes: {@code refused} the container threw {@code IllegalStateException} (which
     * {@code WritePendingException} is), {@code failed} it threw {@code IOException}, {@code other} anything else.
     */
    static String writeRowsWithoutAskingReadiness(ServletOutputStream out, Method writeBuffer, byte[] row, int writes,
                                                  long interval) throws InterruptedException {
        int refused = 0;
        int accepted = 0;
        int failed = 0;
        int other = 0;
        for (int i = 0; i < writes; i++) {
            Throwable thrown = null;
            // the write is made here, in this method, whichever way: it is the call site the agent must name
            try {
                if (writeBuffer == null) {
                    out.write(row, 0, row.length);
                } else {
                    writeBuffer.invoke(out, ByteBuffer.wrap(row));
                }
                accepted++;
            } catch (InvocationTargetException e) {
                thrown = e.getCause();
            } catch (IOException | RuntimeException | IllegalAccessException e) {
                thrown = e;
            }
            if (thrown instanceof IllegalStateException) {
                refused++;
            } else if (thrown instanceof IOException) {
                // the connection is gone (the client went away, or highwater's guard refused it): a real writer stops
                failed++;
                System.out.println("UNASKED-FAILED " + thrown);
                break;
            } else if (thrown != null) {
                other++;
                System.out.println("UNASKED-OTHER " + thrown);
            }
            Thread.sleep(interval);
        }
        return "refused=" + refused + " accepted=" + accepted + " acceptedBytes=" + (long) accepted * row.length
                + " failed=" + failed + " other=" + other;
    }

    /** Blocking, the whole body in one write of one array. */
    public static final class Large extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            byte[] body = rows((int) param(req, "bytes", 8 << 20));
            resp.setContentType("text/csv");
            resp.setContentLengthLong(body.length);
            ServletOutputStream out = resp.getOutputStream();
            out.write(body, 0, body.length);
            out.flush();
            System.out.println("LARGE wrote=" + body.length);
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

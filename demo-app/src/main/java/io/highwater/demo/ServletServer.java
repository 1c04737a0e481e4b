package io.highwater.demo;

import jakarta.servlet.http.HttpServlet;
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
 * The plumbing of the reporting service's servlet endpoints: an embedded Tomcat 11 ({@code jakarta.servlet}) serving
 * the servlets of {@link ServletExport} as {@code /servlet/blocking}, {@code /servlet/respecting} and
 * {@code /servlet/ignoring}, each taking {@code bytes=N}.
 */
public final class ServletServer implements AutoCloseable {

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

    private ServletServer(String host, int port) throws LifecycleException, IOException {
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
        add(ctx, "blocking", new ServletExport.Blocking());
        add(ctx, "respecting", new ServletExport.Respecting());
        add(ctx, "ignoring", new ServletExport.Ignoring());
        tomcat.start();
    }

    /** Starts Tomcat on {@code host:port} (0: a free port). */
    public static ServletServer start(String host, int port) throws LifecycleException, IOException {
        return new ServletServer(host, port);
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
}

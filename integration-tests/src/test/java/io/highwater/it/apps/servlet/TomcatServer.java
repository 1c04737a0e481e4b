package io.highwater.it.apps.servlet;

import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;

import java.nio.file.Files;

/**
 * Embedded Tomcat (10/11, jakarta) serving {@link ExportServlets} on an ephemeral port; prints
 * {@code CONTAINER <server info>} and {@code LISTENING <port>}. {@code --sndbuf N} pins the accepted sockets' send
 * buffer.
 */
public final class TomcatServer {

    private TomcatServer() {
    }

    public static void main(String[] args) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("it-tomcat").toString());
        Connector connector = new Connector("HTTP/1.1");
        connector.setPort(0);
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--sndbuf")) {
                connector.setProperty("socket.txBufSize", args[i + 1]);
            }
        }
        tomcat.setConnector(connector);
        Context ctx = tomcat.addContext("", null);
        add(ctx, "blocking", new ExportServlets.Blocking());
        add(ctx, "respecting", new ExportServlets.Respecting());
        add(ctx, "ignoring", new ExportServlets.Ignoring());
        add(ctx, "unasked", new ExportServlets.Unasked());
        add(ctx, "large", new ExportServlets.Large());
        tomcat.start();
        System.out.println("CONTAINER " + ServerInfo.getServerInfo());
        System.out.println("LISTENING " + connector.getLocalPort());
        tomcat.getServer().await();
    }

    // Tomcat 10.1 has only the mapping method that Tomcat 11 deprecates; this app serves both
    @SuppressWarnings("deprecation")
    private static void add(Context ctx, String name, jakarta.servlet.Servlet servlet) {
        Wrapper w = Tomcat.addServlet(ctx, name, servlet);
        w.setAsyncSupported(true);
        ctx.addServletMappingDecoded("/" + name, name);
    }
}

package io.highwater.it.apps.servlet;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Embedded Jetty 12 (ee10, jakarta) serving {@link ExportServlets} on an ephemeral port; prints
 * {@code CONTAINER jetty/<version>} and {@code LISTENING <port>}. {@code --sndbuf N} pins the accepted sockets' send
 * buffer.
 */
public final class JettyServer {

    private JettyServer() {
    }

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(0);
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--sndbuf")) {
                connector.setAcceptedSendBufferSize(Integer.parseInt(args[i + 1]));
            }
        }
        server.addConnector(connector);
        ServletContextHandler ctx = new ServletContextHandler();
        ctx.setContextPath("/");
        add(ctx, "blocking", new ExportServlets.Blocking());
        add(ctx, "respecting", new ExportServlets.Respecting());
        add(ctx, "ignoring", new ExportServlets.Ignoring());
        add(ctx, "unasked", new ExportServlets.Unasked());
        add(ctx, "large", new ExportServlets.Large());
        server.setHandler(ctx);
        server.start();
        System.out.println("CONTAINER jetty/" + Server.getVersion());
        System.out.println("LISTENING " + connector.getLocalPort());
        server.join();
    }

    private static void add(ServletContextHandler ctx, String name, jakarta.servlet.Servlet servlet) {
        ServletHolder h = new ServletHolder(servlet);
        h.setAsyncSupported(true);
        ctx.addServlet(h, "/" + name);
    }
}

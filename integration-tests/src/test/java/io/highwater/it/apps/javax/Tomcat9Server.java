package io.highwater.it.apps.javax;

import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;

import java.lang.reflect.Method;
import java.nio.file.Files;

/**
 * Embedded Tomcat 9 (javax) serving this package's {@link ExportServlets}; otherwise as
 * {@code io.highwater.it.apps.servlet.TomcatServer}. It compiles against Tomcat 11, whose class names are Tomcat 9's:
 * every call here exists with the same signature in both, except {@code Tomcat.addServlet}, whose servlet parameter
 * is {@code javax.servlet.Servlet} in Tomcat 9, so that one call goes through reflection.
 */
public final class Tomcat9Server {

    private Tomcat9Server() {
    }

    public static void main(String[] args) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("it-tomcat9").toString());
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

    // Tomcat 9 has only the mapping method that Tomcat 11 deprecates
    @SuppressWarnings("deprecation")
    private static void add(Context ctx, String name, javax.servlet.Servlet servlet) throws Exception {
        Method addServlet = Tomcat.class.getMethod("addServlet", Context.class, String.class, javax.servlet.Servlet.class);
        Wrapper w = (Wrapper) addServlet.invoke(null, ctx, name, servlet);
        w.setAsyncSupported(true);
        ctx.addServletMappingDecoded("/" + name, name);
    }
}

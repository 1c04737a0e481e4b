package io.highwater.it.apps.servlet;

import io.undertow.Undertow;
import io.undertow.Version;
import io.undertow.servlet.Servlets;
import io.undertow.servlet.api.DeploymentInfo;
import io.undertow.servlet.api.DeploymentManager;
import io.undertow.servlet.api.InstanceFactory;
import io.undertow.servlet.util.ImmediateInstanceFactory;
import jakarta.servlet.Servlet;
import org.xnio.Options;

import java.net.InetSocketAddress;

/**
 * Embedded Undertow (2.3, jakarta) serving {@link ExportServlets} on an ephemeral port; prints
 * {@code CONTAINER undertow/<version>} and {@code LISTENING <port>}. {@code --sndbuf N} pins the accepted sockets'
 * send buffer.
 */
public final class UndertowServer {

    private UndertowServer() {
    }

    public static void main(String[] args) throws Exception {
        DeploymentInfo info = Servlets.deployment().setClassLoader(UndertowServer.class.getClassLoader())
                .setContextPath("/").setDeploymentName("export");
        add(info, "blocking", new ExportServlets.Blocking());
        add(info, "respecting", new ExportServlets.Respecting());
        add(info, "ignoring", new ExportServlets.Ignoring());
        add(info, "unasked", new ExportServlets.Unasked());
        add(info, "large", new ExportServlets.Large());
        DeploymentManager manager = Servlets.defaultContainer().addDeployment(info);
        manager.deploy();
        Undertow.Builder builder = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(manager.start());
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--sndbuf")) {
                // XNIO applies the listener's SEND_BUFFER to each accepted connection
                builder.setSocketOption(Options.SEND_BUFFER, Integer.parseInt(args[i + 1]));
            }
        }
        Undertow server = builder.build();
        server.start();
        InetSocketAddress bound = (InetSocketAddress) server.getListenerInfo().get(0).getAddress();
        System.out.println("CONTAINER undertow/" + Version.getVersionString());
        System.out.println("LISTENING " + bound.getPort());
        Thread.currentThread().join();
    }

    private static <T extends Servlet> void add(DeploymentInfo info, String name, T servlet) {
        @SuppressWarnings("unchecked")
        Class<T> type = (Class<T>) servlet.getClass();
        InstanceFactory<T> factory = new ImmediateInstanceFactory<>(servlet);
        info.addServlet(Servlets.servlet(name, type, factory).addMapping("/" + name).setAsyncSupported(true));
    }
}

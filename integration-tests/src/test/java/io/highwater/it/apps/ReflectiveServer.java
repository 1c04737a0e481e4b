package io.highwater.it.apps;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The version matrix's older containers, which the test sources cannot compile against (they compile against Jetty 12
 * and Undertow 2.3): Jetty 9.4, 10 and 11 ({@code org.eclipse.jetty.servlet}) and Undertow 2.2 ({@code javax}),
 * serving {@code ExportServlets} of the package given, set up through reflection with the calls that
 * {@code JettyServer} and {@code UndertowServer} make. Prints {@code CONTAINER <name>/<version>} and
 * {@code LISTENING <port>}.
 *
 * <p>Arguments: {@code jetty|undertow <servlets package> [--sndbuf N]}.
 */
public final class ReflectiveServer {

    private static final List<String> SERVLETS = List.of("blocking", "respecting", "ignoring", "unasked", "large");

    private ReflectiveServer() {
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        String pkg = args[1];
        int sndbuf = -1;
        for (int i = 2; i < args.length - 1; i++) {
            if (args[i].equals("--sndbuf")) {
                sndbuf = Integer.parseInt(args[i + 1]);
            }
        }
        int port = kind.equals("jetty") ? jetty(pkg, sndbuf) : undertow(pkg, sndbuf);
        System.out.println("LISTENING " + port);
        Thread.currentThread().join();
    }

    private static Object servlet(String pkg, String name) throws Exception {
        String simple = Character.toUpperCase(name.charAt(0)) + name.substring(1);
        return Class.forName(pkg + ".ExportServlets$" + simple).getConstructor().newInstance();
    }

    private static Class<?> servletType(String pkg) throws ClassNotFoundException {
        return Class.forName(pkg.endsWith(".javax") ? "javax.servlet.Servlet" : "jakarta.servlet.Servlet");
    }

    private static int jetty(String pkg, int sndbuf) throws Exception {
        Class<?> serverType = Class.forName("org.eclipse.jetty.server.Server");
        Class<?> connectorType = Class.forName("org.eclipse.jetty.server.ServerConnector");
        Class<?> ctxType = Class.forName("org.eclipse.jetty.servlet.ServletContextHandler");
        Class<?> holderType = Class.forName("org.eclipse.jetty.servlet.ServletHolder");
        Object server = serverType.getConstructor().newInstance();
        Object connector = connectorType.getConstructor(serverType).newInstance(server);
        connectorType.getMethod("setPort", int.class).invoke(connector, 0);
        if (sndbuf > 0) {
            connectorType.getMethod("setAcceptedSendBufferSize", int.class).invoke(connector, sndbuf);
        }
        serverType.getMethod("addConnector", Class.forName("org.eclipse.jetty.server.Connector"))
                .invoke(server, connector);
        Object ctx = ctxType.getConstructor().newInstance();
        ctxType.getMethod("setContextPath", String.class).invoke(ctx, "/");
        Constructor<?> holder = holderType.getConstructor(servletType(pkg));
        for (String name : SERVLETS) {
            Object h = holder.newInstance(servlet(pkg, name));
            holderType.getMethod("setAsyncSupported", boolean.class).invoke(h, true);
            ctxType.getMethod("addServlet", holderType, String.class).invoke(ctx, h, "/" + name);
        }
        serverType.getMethod("setHandler", Class.forName("org.eclipse.jetty.server.Handler")).invoke(server, ctx);
        serverType.getMethod("start").invoke(server);
        System.out.println("CONTAINER jetty/" + serverType.getMethod("getVersion").invoke(null));
        return (int) connectorType.getMethod("getLocalPort").invoke(connector);
    }

    private static int undertow(String pkg, int sndbuf) throws Exception {
        Class<?> servlets = Class.forName("io.undertow.servlet.Servlets");
        Class<?> infoType = Class.forName("io.undertow.servlet.api.DeploymentInfo");
        Class<?> servletInfoType = Class.forName("io.undertow.servlet.api.ServletInfo");
        Class<?> factoryType = Class.forName("io.undertow.servlet.api.InstanceFactory");
        Class<?> immediate = Class.forName("io.undertow.servlet.util.ImmediateInstanceFactory");
        Object info = servlets.getMethod("deployment").invoke(null);
        infoType.getMethod("setClassLoader", ClassLoader.class).invoke(info, ReflectiveServer.class.getClassLoader());
        infoType.getMethod("setContextPath", String.class).invoke(info, "/");
        infoType.getMethod("setDeploymentName", String.class).invoke(info, "export");
        Method servletMethod = servlets.getMethod("servlet", String.class, Class.class, factoryType);
        for (String name : SERVLETS) {
            Object servlet = servlet(pkg, name);
            Object factory = immediate.getConstructor(Object.class).newInstance(servlet);
            Object si = servletMethod.invoke(null, name, servlet.getClass(), factory);
            servletInfoType.getMethod("addMapping", String.class).invoke(si, "/" + name);
            servletInfoType.getMethod("setAsyncSupported", boolean.class).invoke(si, true);
            infoType.getMethod("addServlet", servletInfoType).invoke(info, si);
        }
        Object container = servlets.getMethod("defaultContainer").invoke(null);
        Object manager = container.getClass().getMethod("addDeployment", infoType).invoke(container, info);
        Class<?> managerType = Class.forName("io.undertow.servlet.api.DeploymentManager");
        managerType.getMethod("deploy").invoke(manager);
        Object handler = managerType.getMethod("start").invoke(manager);
        Class<?> undertowType = Class.forName("io.undertow.Undertow");
        Class<?> builderType = Class.forName("io.undertow.Undertow$Builder");
        Object builder = undertowType.getMethod("builder").invoke(null);
        builderType.getMethod("addHttpListener", int.class, String.class).invoke(builder, 0, "127.0.0.1");
        builderType.getMethod("setHandler", Class.forName("io.undertow.server.HttpHandler")).invoke(builder, handler);
        if (sndbuf > 0) {
            // XNIO applies the listener's SEND_BUFFER to each accepted connection
            Class<?> option = Class.forName("org.xnio.Option");
            Object sendBuffer = Class.forName("org.xnio.Options").getField("SEND_BUFFER").get(null);
            builderType.getMethod("setSocketOption", option, Object.class).invoke(builder, sendBuffer, sndbuf);
        }
        Object server = builderType.getMethod("build").invoke(builder);
        undertowType.getMethod("start").invoke(server);
        System.out.println("CONTAINER undertow/"
                + Class.forName("io.undertow.Version").getMethod("getVersionString").invoke(null));
        List<?> listeners = (List<?>) undertowType.getMethod("getListenerInfo").invoke(server);
        Object listener = listeners.get(0);
        InetSocketAddress bound = (InetSocketAddress) listener.getClass().getMethod("getAddress").invoke(listener);
        return bound.getPort();
    }
}

package io.highwater.demo;

/**
 * The demo's "reporting service", the {@code serve} command: one CSV export ({@link CsvExport}) on three transports,
 * each written by code that respects backpressure and by code that does not, or cannot ignore it.
 *
 * <ul>
 *   <li>Netty, HTTP/1.1 ({@link NettyServer}, the writers in {@link NettyExport}): {@code /export/respecting},
 *       {@code /export/ignoring}, {@code /health};</li>
 *   <li>servlets on an embedded Tomcat ({@link ServletServer}, the servlets in {@link ServletExport}):
 *       {@code /servlet/blocking}, {@code /servlet/respecting}, {@code /servlet/ignoring};</li>
 *   <li>a plain {@code java.net.ServerSocket} ({@link SocketServer}, the writer in {@link SocketExport}):
 *       {@code /socket/export};</li>
 *   <li>gRPC on grpc-netty-shaded ({@link GrpcExport}): {@code demo.Reports/ExportRespecting},
 *       {@code demo.Reports/ExportIgnoring};</li>
 *   <li>Vert.x 5 ({@link VertxExport}): {@code /vertx/respecting}, {@code /vertx/ignoring}.</li>
 * </ul>
 *
 * Once every server accepts connections it prints {@link #LISTENING}, {@link #SERVLET_LISTENING} and
 * {@link #SOCKET_LISTENING} lines, which the scenario and the tests wait for; all output goes to stdout, one line at a
 * time ({@link #say}).
 */
public final class ReportingService {
    /** The service prints this phrase (once per failed connection) when direct memory runs out. */
    public static final String FAILURE_MARKER = "direct memory exhausted";
    /** The service prints {@code LISTENING <port>} on stdout once it accepts connections. */
    public static final String LISTENING = "LISTENING ";
    /** And {@code SERVLET-LISTENING <port>} once its servlet endpoints ({@link ServletServer}) accept them. */
    public static final String SERVLET_LISTENING = "SERVLET-LISTENING ";
    /** And {@code SOCKET-LISTENING <port>} once its plain-socket endpoint ({@link SocketServer}) accepts them. */
    public static final String SOCKET_LISTENING = "SOCKET-LISTENING ";
    /** And {@code GRPC-LISTENING <port>} once its gRPC endpoints ({@link GrpcExport}) accept them. */
    public static final String GRPC_LISTENING = "GRPC-LISTENING ";
    /** And {@code VERTX-LISTENING <port>} once its Vert.x endpoints ({@link VertxExport}) accept them. */
    public static final String VERTX_LISTENING = "VERTX-LISTENING ";

    static final long DEFAULT_EXPORT_BYTES = 400L << 20;

    private static final String USAGE = String.join("\n",
            "usage: java -jar highwater-demo.jar serve [options]",
            "  --port N               port to listen on (default 8080; 0 picks a free one)",
            "  --host ADDR            address to bind (default 127.0.0.1)",
            "  --transport T          auto | epoll | nio (default auto: epoll when available)",
            "  --status-interval D    print direct memory and open exports every D while exports run (default 5s;"
                    + " 0 = off)",
            "  --low-water SIZE       write buffer low-water mark (default 32k)",
            "  --high-water SIZE      write buffer high-water mark (default 64k)",
            "  --servlet-port N       port of the servlet endpoints on embedded Tomcat (default: --port + 1, or a free"
                    + " one with --port 0; -1 = off)",
            "  --socket-port N        port of the plain-socket endpoint (default: --port + 2, or a free one with"
                    + " --port 0; -1 = off)",
            "  --grpc-port N          port of the gRPC endpoints (default: --port + 3, or a free one with --port 0;"
                    + " -1 = off)",
            "  --vertx-port N         port of the Vert.x 5 endpoints (default: --port + 4, or a free one with --port 0;"
                    + " -1 = off)",
            "endpoints: /export/respecting?bytes=N  /export/ignoring?bytes=N  (default 400m)  /health",
            "  &rate=R on either export: generate at most R bytes per second (e.g. rate=2m; default unlimited)",
            "servlet endpoints: /servlet/blocking?bytes=N  /servlet/respecting?bytes=N  /servlet/ignoring?bytes=N",
            "socket endpoint (java.net.ServerSocket, a thread per connection): /socket/export?bytes=N",
            "gRPC endpoints (server streaming, grpc-netty-shaded): demo.Reports/ExportRespecting"
                    + "  demo.Reports/ExportIgnoring",
            "Vert.x 5 endpoints: /vertx/respecting?bytes=N (drainHandler)  /vertx/ignoring?bytes=N&rate=R (never asks"
                    + " writeQueueFull(); N caps what piles up)",
            "prints 'LISTENING <port>' (and 'SERVLET-LISTENING', 'SOCKET-LISTENING', 'GRPC-LISTENING', 'VERTX-LISTENING"
                    + " <port>') on stdout once it"
                    + " accepts connections; runs until stopped");

    private ReportingService() {
    }

    public static void main(String[] args) {
        System.exit(serve(args));
    }

    /** The {@code serve} sub-command: starts the servers and runs until the process is stopped. */
    static int serve(String[] args) {
        NettyServer.Config config = new NettyServer.Config();
        int servletPort;
        int socketPort;
        int grpcPort;
        int vertxPort;
        try {
            Args a = Args.parse(args,
                    Args.names("port", "host", "transport", "status-interval", "low-water", "high-water",
                            "servlet-port", "socket-port", "grpc-port", "vertx-port"),
                    Args.names("help"));
            if (a.has("help")) {
                System.out.println(USAGE);
                return 0;
            }
            config.port = a.integer("port", config.port);
            config.host = a.get("host", config.host);
            config.transport = a.get("transport", config.transport);
            config.statusIntervalNanos = a.nanos("status-interval", "5s");
            config.lowWater = (int) a.size("low-water", "32k");
            config.highWater = (int) a.size("high-water", "64k");
            servletPort = a.integer("servlet-port", config.port == 0 ? 0 : config.port + 1);
            socketPort = a.integer("socket-port", config.port == 0 ? 0 : config.port + 2);
            grpcPort = a.integer("grpc-port", config.port == 0 ? 0 : config.port + 3);
            vertxPort = a.integer("vertx-port", config.port == 0 ? 0 : config.port + 4);
        } catch (IllegalArgumentException e) {
            System.err.println("serve: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        return serve(config, servletPort, socketPort, grpcPort, vertxPort);
    }

    private static int serve(NettyServer.Config config, int servletPort, int socketPort, int grpcPort,
                             int vertxPort) {
        NettyServer netty;
        try {
            netty = NettyServer.start(config);
        } catch (Exception e) {
            System.err.println("serve: could not start: " + e);
            return 1;
        }
        if (!stopAtExit(netty, "reporting-service-shutdown")) {
            netty.close(); // stopped while starting
            return 0;
        }
        ServletServer servlets = null;
        SocketServer sockets = null;
        GrpcExport grpc = null;
        VertxExport vertx = null;
        try {
            servlets = servletPort < 0 ? null : ServletServer.start(config.host, servletPort);
            stopAtExit(servlets, "servlet-service-shutdown");
            sockets = socketPort < 0 ? null : SocketServer.start(config.host, socketPort);
            stopAtExit(sockets, "socket-service-shutdown");
            grpc = grpcPort < 0 ? null : GrpcExport.start(config.host, grpcPort);
            stopAtExit(grpc, "grpc-service-shutdown");
            vertx = vertxPort < 0 ? null : VertxExport.start(config.host, vertxPort);
            stopAtExit(vertx, "vertx-service-shutdown");
        } catch (Exception e) {
            System.err.println("serve: could not start the " + (servlets == null && servletPort >= 0
                    ? "servlet endpoints" : sockets == null && socketPort >= 0 ? "socket endpoint"
                    : grpc == null && grpcPort >= 0 ? "gRPC endpoints" : "Vert.x endpoints") + ": " + e);
            if (grpc != null) {
                grpc.close();
            }
            if (servlets != null) {
                servlets.close();
            }
            if (sockets != null) {
                sockets.close();
            }
            netty.close();
            return 1;
        }
        if (servlets != null) {
            say("servlet endpoints on " + ServletServer.version() + " (embedded): /servlet/blocking (the request"
                    + " thread waits)  /servlet/respecting (async, honours isReady())  /servlet/ignoring (async,"
                    + " does not)");
        }
        if (sockets != null) {
            say("socket endpoint on java.net.ServerSocket, a thread per connection: /socket/export (blocking writes"
                    + " through a BufferedOutputStream)");
        }
        if (grpc != null) {
            say("gRPC endpoints on grpc-netty-shaded: demo.Reports/ExportRespecting (onNext while isReady())"
                    + "  demo.Reports/ExportIgnoring (onNext in a loop)");
        }
        if (vertx != null) {
            say("Vert.x endpoints on Vert.x " + VertxExport.version() + ": /vertx/respecting (writes while"
                    + " !writeQueueFull(), resumes in drainHandler)  /vertx/ignoring (never asks writeQueueFull())");
        }
        say(LISTENING + netty.port());
        if (servlets != null) {
            say(SERVLET_LISTENING + servlets.port());
        }
        if (sockets != null) {
            say(SOCKET_LISTENING + sockets.port());
        }
        if (grpc != null) {
            say(GRPC_LISTENING + grpc.port());
        }
        if (vertx != null) {
            say(VERTX_LISTENING + vertx.port());
        }
        netty.awaitClose();
        return 0;
    }

    /** Closes {@code server} when the JVM stops; false when it is already stopping. */
    private static boolean stopAtExit(AutoCloseable server, String threadName) {
        if (server == null) {
            return true;
        }
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (Exception e) {
                    say("stopping " + threadName + ": " + e);
                }
            }, threadName));
            return true;
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
    }

    static String oneLine(Throwable t) {
        String s = t.toString();
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Prints one line on stdout, whole, whichever thread says it. */
    static void say(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }
}

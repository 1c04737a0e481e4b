package io.highwater.demo;

import java.util.Arrays;

/**
 * Entry point of {@code highwater-demo.jar}: dispatches to the {@code serve}, {@code slow-client} and
 * {@code scenario} sub-commands.
 */
public final class Main {
    private static final String USAGE = String.join("\n",
            "usage: java -jar highwater-demo.jar <command> [options]   (--help after a command for its options)",
            "  scenario      the demo: the service with the agent attached, a slow phone, both endpoints",
            "  serve         the reporting service alone until stopped (Netty HTTP/1.1; /export/respecting,"
                    + " /export/ignoring, /health); prints LISTENING <port>",
            "  slow-client   a client that reads a response at a fixed rate (default 200 KiB/s)");

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length == 0 || "--help".equals(args[0]) || "-h".equals(args[0]) || "help".equals(args[0])) {
            System.out.println(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int code;
        switch (args[0]) {
            case "serve":
                code = ReportingService.serve(rest);
                break;
            case "slow-client":
                code = SlowClient.run(rest);
                break;
            case "scenario":
                code = Scenario.run(rest);
                break;
            default:
                System.err.println("unknown command '" + args[0] + "'");
                System.err.println(USAGE);
                code = 2;
        }
        System.exit(code);
    }
}

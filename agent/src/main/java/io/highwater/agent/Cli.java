package io.highwater.agent;

import java.io.File;

/** The agent jar's command line ({@code java -jar highwater-agent.jar ...}). */
public final class Cli {

    private Cli() {
    }

    public static void main(File jar, String[] args) {
        if (args.length == 1 && (args[0].equals("version") || args[0].equals("--version"))) {
            System.out.println("highwater " + Version.get());
            return;
        }
        System.out.println("highwater " + Version.get() + ": attach with -javaagent:" + jar.getName()
                + "[=key=value;key=value] (see the README for the settings)");
        System.out.println("usage: java -jar " + jar.getName() + " version");
        if (args.length > 0) {
            System.exit(2);
        }
    }
}

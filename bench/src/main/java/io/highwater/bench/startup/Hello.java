package io.highwater.bench.startup;

/** The hello-world JVM of bench/scripts/startup.sh. */
public final class Hello {

    private Hello() {
    }

    public static void main(String[] args) {
        System.out.println("hello, world");
    }
}

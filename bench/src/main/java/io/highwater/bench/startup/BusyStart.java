package io.highwater.bench.startup;

/**
 * The "busy start-up" JVM of bench/scripts/startup.sh: a host whose start-up keeps every core busy for about a
 * second (a fixed amount of arithmetic on one thread per core), as a framework's start-up does with class loading,
 * scanning and compiling. Whatever an agent does in the background during that second competes for the same cores
 * and shows up in the host's wall time; a plain hello world is over before an agent's background work begins.
 *
 * <p>Usage: {@code BusyStart [iterationsPerThread]}: the same work in every run, not the same duration.
 */
public final class BusyStart {

    private BusyStart() {
    }

    public static void main(String[] args) throws InterruptedException {
        long iterations = args.length > 0 ? Long.parseLong(args[0]) : 300_000_000L;
        int cores = Runtime.getRuntime().availableProcessors();
        long[] results = new long[cores];
        Thread[] threads = new Thread[cores];
        for (int i = 0; i < cores; i++) {
            int k = i;
            threads[i] = new Thread(() -> results[k] = spin(k + 1, iterations), "busy-" + i);
            threads[i].start();
        }
        long sum = 0;
        for (int i = 0; i < cores; i++) {
            threads[i].join();
            sum += results[i];
        }
        // printed so that the work cannot be optimised away
        System.out.println("busy start-up done on " + cores + " threads: " + Long.toHexString(sum));
    }

    private static long spin(long seed, long iterations) {
        long x = seed;
        for (long i = 0; i < iterations; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            x ^= x >>> 29;
        }
        return x;
    }
}

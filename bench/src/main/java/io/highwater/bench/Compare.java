package io.highwater.bench;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Runs JMH with the usual command line (the same options as {@code java -jar benchmarks.jar}) and then puts each
 * {@code NoAgent} result beside its {@code WithAgent} twin: the agent's cost is the difference. Errors are JMH's
 * 99.9% confidence half-widths, combined as the square root of the sum of squares. Allocation per operation is
 * shown when the run used {@code -prof gc}.
 *
 * <p>With {@code -rounds N}, each NoAgent/WithAgent pair instead runs as N rounds of one fork
 * each, the two forks of a round back to back and their order flipping every round, and the table adds the median
 * of the per-round differences: on a machine whose load drifts (a shared 2-core VM), adjacent forks see nearly the
 * same machine, and the paired difference is far steadier than the difference of two long averages.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar io.highwater.bench.Compare [-rounds N] [JMH options]
 * [regexp]} (bench/scripts/jmh.sh runs it with {@code -prof gc}).
 */
public final class Compare {

    private static final String NO = ".NoAgent.";
    private static final String WITH = ".WithAgent.";

    private Compare() {
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        int at = rest.indexOf("-rounds");
        if (at >= 0 && at + 1 < rest.size()) {
            int rounds = Integer.parseInt(rest.get(at + 1));
            rest.subList(at, at + 2).clear();
            rounds(rounds, rest);
            return;
        }
        Collection<RunResult> results = new Runner(new CommandLineOptions(args)).run();
        System.out.println();
        System.out.println(table(results));
    }

    private static void rounds(int rounds, List<String> args) throws Exception {
        CommandLineOptions cmd = new CommandLineOptions(args.toArray(new String[0]));
        // the same command line for every fork, its benchmark regexps replaced by the one benchmark
        List<String> common = new ArrayList<>(args);
        common.removeAll(cmd.getIncludes());
        common.add("-f");
        common.add("1");
        List<String> includes = cmd.getIncludes().isEmpty() ? Collections.singletonList(".*") : cmd.getIncludes();
        Set<String> pairs = new LinkedHashSet<>();
        for (BenchmarkListEntry e : BenchmarkList.defaultList().find(
                OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT), includes, cmd.getExcludes())) {
            if (e.getUsername().contains(NO)) {
                pairs.add(e.getUsername().replace(NO, "."));
            }
        }
        List<RunResult> all = new ArrayList<>();
        Map<String, List<double[]>> perRound = new LinkedHashMap<>();
        Map<String, String> units = new TreeMap<>();
        for (int r = 1; r <= rounds; r++) {
            for (String pair : pairs) {
                String[] order = r % 2 == 1 ? new String[] {NO, WITH} : new String[] {WITH, NO};
                Map<String, RunResult> got = new TreeMap<>();
                for (String variant : order) {
                    int dot = pair.lastIndexOf('.');
                    String name = pair.substring(0, dot) + variant + pair.substring(dot + 1);
                    System.out.println("# round " + r + "/" + rounds + ": " + name);
                    List<String> one = new ArrayList<>(common);
                    one.add("^" + Pattern.quote(name) + "$");
                    for (RunResult res : new Runner(new CommandLineOptions(one.toArray(new String[0]))).run()) {
                        got.put(variant + params(res), res);
                        all.add(res);
                    }
                }
                for (Map.Entry<String, RunResult> e : got.entrySet()) {
                    if (!e.getKey().startsWith(NO)) {
                        continue;
                    }
                    RunResult with = got.get(WITH + e.getKey().substring(NO.length()));
                    if (with != null) {
                        perRound.computeIfAbsent(pair + e.getKey().substring(NO.length()), k -> new ArrayList<>())
                                .add(new double[] {e.getValue().getPrimaryResult().getScore(),
                                        with.getPrimaryResult().getScore(), allocOf(e.getValue()), allocOf(with)});
                        units.put(pair + e.getKey().substring(NO.length()),
                                with.getPrimaryResult().getScoreUnit());
                    }
                }
            }
        }
        System.out.println();
        System.out.println("agent vs no agent in " + rounds + " paired rounds (one fork each, the two forks of a round"
                + " adjacent, order alternating); medians over rounds");
        System.out.println(String.format(Locale.ROOT, "%-44s %12s %12s %12s %12s %12s  %s", "benchmark", "no agent",
                "with agent", "diff median", "diff min", "diff max", "alloc B/op no/with; per-round diffs"));
        for (Map.Entry<String, List<double[]>> e : perRound.entrySet()) {
            List<Double> no = new ArrayList<>();
            List<Double> with = new ArrayList<>();
            List<Double> diffs = new ArrayList<>();
            List<Double> allocNo = new ArrayList<>();
            List<Double> allocWith = new ArrayList<>();
            StringBuilder each = new StringBuilder();
            for (double[] d : e.getValue()) {
                no.add(d[0]);
                with.add(d[1]);
                diffs.add(d[1] - d[0]);
                allocNo.add(d[2]);
                allocWith.add(d[3]);
                each.append(String.format(Locale.ROOT, " %+.2f", d[1] - d[0]));
            }
            System.out.println(String.format(Locale.ROOT, "%-44s %12.3f %12.3f %+12.3f %+12.3f %+12.3f  %s / %s;%s %s",
                    shortName(e.getKey()), median(no), median(with), median(diffs), Collections.min(diffs),
                    Collections.max(diffs), fmt(median(allocNo)), fmt(median(allocWith)), each, units.get(e.getKey())));
        }
    }

    private static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int n = v.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    private static double allocOf(RunResult r) {
        Result<?> a = r.getSecondaryResults().get("gc.alloc.rate.norm");
        return a == null ? Double.NaN : a.getScore();
    }

    private static String fmt(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.3f", d);
    }

    static String table(Collection<RunResult> results) {
        Map<String, RunResult[]> pairs = new TreeMap<>();
        List<RunResult> others = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark() + params(r);
            if (name.contains(NO)) {
                pairs.computeIfAbsent(name.replace(NO, "."), k -> new RunResult[2])[0] = r;
            } else if (name.contains(WITH)) {
                pairs.computeIfAbsent(name.replace(WITH, "."), k -> new RunResult[2])[1] = r;
            } else {
                others.add(r);
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("agent vs no agent (difference = with - without; ± is the 99.9% confidence half-width)\n");
        out.append(String.format(Locale.ROOT, "%-52s %24s %24s %26s %9s %19s%n", "benchmark", "no agent", "with agent",
                "difference", "diff %", "alloc B/op no/with"));
        for (Map.Entry<String, RunResult[]> e : pairs.entrySet()) {
            RunResult no = e.getValue()[0];
            RunResult with = e.getValue()[1];
            if (no == null || with == null) {
                continue;
            }
            Result<?> a = no.getPrimaryResult();
            Result<?> b = with.getPrimaryResult();
            double diff = b.getScore() - a.getScore();
            double err = Math.sqrt(square(a.getScoreError()) + square(b.getScoreError()));
            out.append(String.format(Locale.ROOT, "%-52s %24s %24s %26s %8.2f%% %19s%n",
                    shortName(e.getKey()), score(a), score(b),
                    String.format(Locale.ROOT, "%+.3f ± %.3f %s", diff, err, a.getScoreUnit()),
                    100 * diff / a.getScore(), alloc(no) + " / " + alloc(with)));
        }
        if (!others.isEmpty()) {
            out.append("\nother benchmarks\n");
            for (RunResult r : others) {
                out.append(String.format(Locale.ROOT, "%-52s %24s %19s%n",
                        shortName(r.getParams().getBenchmark() + params(r)), score(r.getPrimaryResult()),
                        "alloc " + alloc(r) + " B/op"));
            }
        }
        return out.toString();
    }

    private static String params(RunResult r) {
        Map<String, String> p = new LinkedHashMap<>();
        for (String k : r.getParams().getParamsKeys()) {
            p.put(k, r.getParams().getParam(k));
        }
        return p.isEmpty() ? "" : p.toString().replace(" ", "");
    }

    private static String shortName(String name) {
        return name.replace("io.highwater.bench.", "");
    }

    private static String score(Result<?> r) {
        return String.format(Locale.ROOT, "%.3f ± %.3f %s", r.getScore(), finite(r.getScoreError()), r.getScoreUnit());
    }

    private static String alloc(RunResult r) {
        Result<?> a = r.getSecondaryResults().get("gc.alloc.rate.norm");
        return a == null ? "-" : String.format(Locale.ROOT, "%.3f", a.getScore());
    }

    private static double finite(double d) {
        return Double.isNaN(d) ? 0 : d;
    }

    private static double square(double d) {
        return finite(d) * finite(d);
    }
}

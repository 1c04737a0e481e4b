package io.highwater.core;

import java.lang.StackWalker.StackFrame;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Finds the application frame that made a write: the first frame, walking up from the write, whose class is
 * not part of the JDK, the agent or a known framework. Called only on the slow path, behind a rate limiter.
 */
public final class StackInspector {

    /** Frameworks that write on the application's behalf; their frames are never the culprit. */
    static final List<String> BUILT_IN_FRAMEWORKS = Arrays.asList(
            "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.",
            "io.highwater.agent.", "io.highwater.core.", "io.highwater.netty.", "io.highwater.servlet.", "io.highwater.socket.",
            "io.highwater.bootstrap.",
            "io.highwater.shaded.", "io.highwater.telemetry.",
            "io.netty.", "reactor.netty.", "reactor.core.", "io.vertx.", "io.grpc.", "com.linecorp.armeria.",
            "io.micronaut.http.", "io.quarkus.", "io.undertow.", "org.apache.catalina.", "org.apache.coyote.",
            "org.apache.tomcat.", "org.eclipse.jetty.", "org.springframework.", "ratpack.", "org.asynchttpclient.",
            "kotlin.", "kotlinx.coroutines.", "scala.", "akka.", "org.apache.pekko.",
            "io.opentelemetry.javaagent.", "net.bytebuddy.");

    /**
     * The frame that marks a write submitted from outside the event loop, now running on it (its submitter held
     * the call site). Only its {@code run}: on the submitting thread the same class appears while being created.
     */
    private static final String SUBMITTED_TASK_MARKER = "AbstractChannelHandlerContext$WriteTask";
    private static final String SUBMITTED_TASK_RUN = "run";

    private final String[] frameworks;
    private final StackWalker walker = StackWalker.getInstance();

    public StackInspector(List<String> extraFrameworks) {
        List<String> all = new ArrayList<>(BUILT_IN_FRAMEWORKS);
        for (String p : extraFrameworks) {
            String t = p.trim();
            if (!t.isEmpty()) {
                all.add(t.endsWith(".") ? t : t + ".");
            }
        }
        this.frameworks = all.toArray(new String[0]);
    }

    /** The outcome of one walk. */
    public static final class Result {
        /** {@code package.Class.method} of the application frame, or null when there is none. */
        public final String function;
        /** True when the write runs a task submitted from another thread, whose stack holds the real culprit. */
        public final boolean submitted;

        Result(String function, boolean submitted) {
            this.function = function;
            this.submitted = submitted;
        }
    }

    public Result inspect() {
        boolean[] submitted = new boolean[1];
        Optional<StackFrame> frame = walker.walk(s -> s.filter(f -> {
            String cls = f.getClassName();
            if (cls.endsWith(SUBMITTED_TASK_MARKER) && f.getMethodName().equals(SUBMITTED_TASK_RUN)) {
                submitted[0] = true;
            }
            return !submitted[0] && !isFramework(cls);
        }).findFirst());
        return new Result(frame.map(f -> normalise(f.getClassName(), f.getMethodName())).orElse(null), submitted[0]);
    }

    boolean isFramework(String className) {
        for (String p : frameworks) {
            if (className.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** Compiled on first use (a slow path), not while the host starts. */
    private static final class Names {
        static final Pattern LAMBDA_CLASS = Pattern.compile("\\$\\$Lambda(\\$\\d+)?(/0x[0-9a-f]+)?(\\$\\d+)?");
        static final Pattern HIDDEN_SUFFIX = Pattern.compile("/0x[0-9a-f]+");
        static final Pattern PROXY = Pattern.compile("\\$Proxy\\d+");
        static final Pattern GENERATED_SUFFIX = Pattern.compile(
                "\\$\\$(EnhancerBySpringCGLIB|EnhancerByCGLIB|FastClassBySpringCGLIB|SpringCGLIB|ByteBuddy|Proxy|Accessor)"
                        + "\\$\\$?[0-9a-zA-Z]+");
        static final Pattern BYTEBUDDY_SUFFIX = Pattern.compile("\\$(ByteBuddy|auxiliary)\\$[0-9a-zA-Z]+");
        static final Pattern ACCESSOR = Pattern.compile("(GeneratedMethodAccessor|GeneratedConstructorAccessor|"
                + "GeneratedSerializationConstructorAccessor)\\d+");
        static final Pattern LAMBDA_METHOD = Pattern.compile("^lambda\\$(.*?)\\$\\d+$");
    }

    /** Strips the parts of generated names that change from run to run, so restarts do not mint new values. */
    static String normalise(String className, String method) {
        String c = Names.LAMBDA_CLASS.matcher(className).replaceAll("\\$\\$Lambda");
        c = Names.HIDDEN_SUFFIX.matcher(c).replaceAll("");
        c = Names.PROXY.matcher(c).replaceAll("\\$Proxy");
        c = Names.GENERATED_SUFFIX.matcher(c).replaceAll("\\$\\$$1");
        c = Names.BYTEBUDDY_SUFFIX.matcher(c).replaceAll("\\$$1");
        c = Names.ACCESSOR.matcher(c).replaceAll("$1");
        String m = Names.LAMBDA_METHOD.matcher(method).replaceAll("lambda\\$$1");
        return c + "." + m;
    }
}

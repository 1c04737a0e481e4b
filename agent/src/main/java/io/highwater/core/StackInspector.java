package io.highwater.core;

import java.lang.StackWalker.StackFrame;
import java.util.Iterator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the application frame that made a write: walking out from the write, the first frame that is not part of
 * the JDK, an agent or a framework ({@link Frameworks}), nor a pipeline handler's outbound method. Called only on
 * slow paths, behind a rate limiter where a walk per write would cost too much.
 */
public final class StackInspector {

    /** Netty's outbound dispatch: these methods call a handler's {@code write} or {@code flush}, in 4.1 and 4.2. */
    private static final String CONTEXT = "io.netty.channel.AbstractChannelHandlerContext";
    private static final String PIPELINE = "io.netty.channel.DefaultChannelPipeline";
    private static final String CHANNEL = "io.netty.channel.AbstractChannel";
    private static final String COMBINED = "io.netty.channel.CombinedChannelDuplexHandler";

    private final Frameworks frameworks;
    private final StackWalker walker = StackWalker.getInstance();

    public StackInspector(Frameworks frameworks) {
        this.frameworks = frameworks;
    }

    /** With the built-in frameworks and {@code extraFrameworks} (package prefixes). */
    public StackInspector(java.util.List<String> extraFrameworks) {
        this(new Frameworks(extraFrameworks));
    }

    public Frameworks frameworks() {
        return frameworks;
    }

    /** The outcome of one walk. */
    public static final class Result {
        static final Result NONE = new Result(null, false);
        /** Not the application's write: a handler passes on what was judged further out. */
        public static final Result FORWARDED = new Result(null, true);

        /** {@code package.Class.method} of the application frame, or null when there is none. */
        public final String function;
        /**
         * True when the write was made inside a pipeline handler's outbound method ({@code write} or {@code flush}
         * called by Netty's pipeline): the handler passes on, or turns into other messages, what was written
         * further out, which was judged there. Such a write is never the application's.
         */
        public final boolean forwarded;

        Result(String function, boolean forwarded) {
            this.function = function;
            this.forwarded = forwarded;
        }
    }

    /** The application frame on this thread's stack, skipping frameworks and pipeline handlers' outbound methods. */
    public Result inspect() {
        return walker.walk(this::firstApplicationFrame);
    }

    /**
     * The first application frame of another thread's {@code stack} (from its top), or null: for a thread blocked in
     * a framework's write, the application's call that made it.
     */
    public String applicationFunction(StackTraceElement[] stack) {
        for (StackTraceElement f : stack) {
            if (!frameworks.isFramework(f.getClassName())) {
                return normalise(f.getClassName(), f.getMethodName());
            }
        }
        return null;
    }

    /**
     * For a write into a Netty pipeline: whether it was forwarded by a handler's outbound method (then it is not
     * the application's write), or else the application frame that made it.
     */
    public Result inspectPipelineWrite() {
        return walker.walk(this::pipelineWrite);
    }

    private Result firstApplicationFrame(Stream<StackFrame> frames) {
        Iterator<StackFrame> it = frames.iterator();
        StackFrame candidate = null;
        while (it.hasNext()) {
            StackFrame f = it.next();
            if (candidate != null) {
                if (!isOutboundDispatch(f)) {
                    return application(candidate);
                }
                // the candidate was a handler's write or flush, called by the pipeline: keep looking further out
                candidate = null;
            }
            if (!frameworks.isFramework(f.getClassName())) {
                candidate = f;
            }
        }
        return candidate == null ? Result.NONE : application(candidate);
    }

    private Result pipelineWrite(Stream<StackFrame> frames) {
        Iterator<StackFrame> it = frames.iterator();
        boolean entering = true;
        StackFrame candidate = null;
        while (it.hasNext()) {
            StackFrame f = it.next();
            String cls = f.getClassName();
            if (entering && isPlumbing(cls)) {
                continue;
            }
            entering = false;
            if (candidate != null) {
                // an application class whose method the pipeline called is a handler passing a write on
                return isOutboundDispatch(f) ? Result.FORWARDED : application(candidate);
            }
            if (isOutboundDispatch(f)) {
                return Result.FORWARDED;
            }
            if (!frameworks.isFramework(cls)) {
                candidate = f;
            }
        }
        return candidate == null ? Result.NONE : application(candidate);
    }

    private static Result application(StackFrame f) {
        return new Result(normalise(f.getClassName(), f.getMethodName()), false);
    }

    /** The agent's own frames and Netty's entry into the pipeline (the context's, the pipeline's, the channel's). */
    private boolean isPlumbing(String cls) {
        return cls.endsWith(CONTEXT) || cls.endsWith(PIPELINE) || cls.endsWith(PIPELINE + "$TailContext")
                || cls.endsWith(CHANNEL) || frameworks.isAgent(cls);
    }

    /**
     * A frame of Netty's pipeline calling a handler's outbound {@code write} or {@code flush} (any Netty copy): the
     * context's dispatch, or a combined handler handing the operation to its outbound half.
     */
    static boolean isOutboundDispatch(StackFrame f) {
        String cls = f.getClassName();
        if (cls.endsWith(COMBINED)) {
            return f.getMethodName().equals("write") || f.getMethodName().equals("flush");
        }
        if (!cls.endsWith(CONTEXT)) {
            return cls.endsWith(CONTEXT + "$WriteTask") && f.getMethodName().equals("run");
        }
        switch (f.getMethodName()) {
            case "invokeWrite0":
            case "invokeWrite":
            case "invokeWriteAndFlush":
            case "invokeFlush0":
            case "invokeFlush":
            case "write":
            case "flush":
                return true;
            default:
                return false;
        }
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

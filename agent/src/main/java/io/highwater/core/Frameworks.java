package io.highwater.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The one list of code that is not the application's: what the call-site search walks past, and which of it owns
 * the sockets it writes to. Every layer asks here; {@code highwater.callsite.frameworks} extends both views.
 *
 * <p>Three kinds of packages:
 * <ul>
 *   <li>runtimes (the JDK, Kotlin, Scala, Groovy): never a call site, and they write only on someone's behalf
 *       through the socket the caller owns;</li>
 *   <li>libraries that write on the application's behalf (servers, clients, reactive runtimes): never a call site,
 *       and the sockets they write to are theirs, so the socket layer leaves them to their own layer;</li>
 *   <li>agents (OpenTelemetry's Java agent, Datadog, Elastic APM, New Relic, Glowroot, SkyWalking, Pinpoint,
 *       Dynatrace, and highwater's own relocated exporter): never a call site, and what they export is their own
 *       traffic;</li>
 *   <li>highwater's own code: never a call site, and on every stack its hooks walk, so no sign of an owner.</li>
 * </ul>
 *
 * <p>Prefixes are put together at run time on purpose: the shade plugin rewrites string constants that look like
 * the packages it relocates, so the literal {@code "io.opentelemetry.javaagent."} would read
 * {@code "io.highwater.shaded.io.opentelemetry.javaagent."} in the agent jar and match nothing.
 */
public final class Frameworks {

    static final List<String> RUNTIMES = Collections.unmodifiableList(Arrays.asList(
            "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.coroutines.", "scala.",
            "groovy.lang.", "org.codehaus.groovy."));

    static final List<String> LIBRARIES = Collections.unmodifiableList(Arrays.asList(
            "io.netty.", "reactor.netty.", "reactor.core.", "io.vertx.", "io.grpc.", "com.linecorp.armeria.",
            "io.micronaut.", "io.quarkus.", "io.helidon.", "io.undertow.", "org.xnio.", "org.jboss.xnio.",
            "org.apache.catalina.", "org.apache.coyote.", "org.apache.tomcat.", "org.eclipse.jetty.",
            "org.glassfish.grizzly.", "org.glassfish.jersey.", "org.springframework.", "ratpack.",
            "org.asynchttpclient.", "akka.", "org.apache.pekko.", "org.apache.hc.", "org.apache.http.", "okhttp3.",
            "okio.", "org.apache.mina.", "com.hazelcast.", "io.lettuce.", "com.datastax.", "org.elasticsearch.",
            "org.opensearch.", "com.mongodb.", "io.r2dbc.", "org.postgresql.", "com.mysql.",
            // the JDK's own HTTP client writes to channels it owns (the agent's https export among them)
            "jdk.internal.net.http."));

    /**
     * highwater's own code and helpers (not its demo or test apps): on every stack the hooks walk, so they are never
     * the sign of a socket's owner. Its relocated dependencies (its exporter) are in {@link #AGENTS}.
     */
    static final List<String> HIGHWATER = Collections.unmodifiableList(Arrays.asList(
            pkg("io", "highwater", "agent"), pkg("io", "highwater", "base"), pkg("io", "highwater", "instrument"),
            pkg("io", "highwater", "bootstrap"), pkg("io", "highwater", "config"),
            pkg("io", "highwater", "core"), pkg("io", "highwater", "netty"), pkg("io", "highwater", "servlet"),
            pkg("io", "highwater", "http2"), pkg("io", "highwater", "grpc"),
            pkg("io", "highwater", "socket"), pkg("io", "highwater", "telemetry"),
            pkg("io", "highwater", "vertx"), pkg("io", "highwater", "reactor"),
            pkg("io", "highwater", "websocket")));

    static final List<String> AGENTS = Collections.unmodifiableList(Arrays.asList(
            pkg("io", "highwater", "shaded"),
            // the OpenTelemetry Java agent's own classes, its shaded instrumentation, and the API it bridges
            pkg("io", "opentelemetry"),
            pkg("datadog"), pkg("com", "datadog"), pkg("co", "elastic", "apm"), pkg("com", "newrelic"),
            pkg("org", "glowroot"), pkg("org", "apache", "skywalking"), pkg("com", "navercorp", "pinpoint"),
            pkg("com", "dynatrace"), pkg("com", "compuware", "apm"), pkg("net", "bytebuddy")));

    private final java.util.Set<String> claimedHandlers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final String[] notApplication;
    private final String[] socketOwners;
    private final String[] agents;

    /** @param extra package prefixes from {@code highwater.callsite.frameworks}; blank entries are ignored */
    public Frameworks(List<String> extra) {
        List<String> added = new ArrayList<>();
        for (String p : extra) {
            String t = p.trim();
            if (!t.isEmpty()) {
                added.add(t.endsWith(".") ? t : t + ".");
            }
        }
        List<String> all = new ArrayList<>(RUNTIMES);
        all.addAll(LIBRARIES);
        all.addAll(HIGHWATER);
        all.addAll(AGENTS);
        all.addAll(added);
        this.notApplication = all.toArray(new String[0]);
        List<String> owners = new ArrayList<>(LIBRARIES);
        owners.addAll(AGENTS);
        owners.addAll(added);
        this.socketOwners = owners.toArray(new String[0]);
        List<String> agentsAndSelf = new ArrayList<>(HIGHWATER);
        agentsAndSelf.addAll(AGENTS);
        this.agents = agentsAndSelf.toArray(new String[0]);
    }

    /** The built-in list only. */
    public static Frameworks builtIn() {
        return new Frameworks(Collections.<String>emptyList());
    }

    /** Whether a frame of {@code className} can never be the application's call site. */
    public boolean isFramework(String className) {
        return startsWithAny(className, notApplication) || isGenerated(className) || isRelocatedLibrary(className);
    }

    /**
     * Whether a frame of {@code className} on a writing thread's stack means the socket belongs to a library (or
     * agent) that reports, or hides, its own backpressure.
     */
    public boolean ownsSockets(String className) {
        return startsWithAny(className, socketOwners) || isRelocatedLibrary(className);
    }

    /**
     * A library relocated into another package keeps its own package after the new prefix
     * ({@code com.acme.shaded.io.netty.channel.X}): it is the library, wherever it was moved.
     */
    static boolean isRelocatedLibrary(String className) {
        for (String p : LIBRARIES) {
            int at = className.indexOf(p, 1);
            if (at > 0 && className.charAt(at - 1) == '.') {
                return true;
            }
        }
        return false;
    }

    /**
     * A framework's Netty handler through whose context the framework hands on writes it has judged itself, at the
     * point where the application's call entered the framework (Vert.x's {@code VertxHandler}, say): the Netty
     * layer then takes such writes for a handler's, not the application's, so that one call is judged once.
     * Registered by the integration that judges them, while it is installed.
     */
    public void claimHandler(String className) {
        claimedHandlers.add(className);
    }

    public void unclaimHandler(String className) {
        claimedHandlers.remove(className);
    }

    /** Whether writes through a handler of {@code className} are judged by another layer (see {@link #claimHandler}). */
    public boolean isClaimedHandler(String className) {
        return !claimedHandlers.isEmpty() && claimedHandlers.contains(className);
    }

    /** Whether {@code className} belongs to an agent, highwater's own code included. */
    public boolean isAgent(String className) {
        return startsWithAny(className, agents);
    }

    /**
     * Proxies and accessors generated at run time delegate to the code that matters, which lies further in on the
     * stack; a frame of their own is never the culprit.
     */
    static boolean isGenerated(String className) {
        return className.contains("$$EnhancerBy") || className.contains("$$SpringCGLIB$$")
                || className.contains("$$FastClassBy") || className.contains("$HibernateProxy$")
                || className.contains("$MockitoMock$") || className.contains("$ByteBuddy$")
                || className.contains("$$Lambda");
    }

    private static boolean startsWithAny(String className, String[] prefixes) {
        for (String p : prefixes) {
            if (className.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** {@code a.b.c.}, put together at run time (see the class comment). */
    private static String pkg(String... parts) {
        StringBuilder b = new StringBuilder();
        for (String p : parts) {
            b.append(p).append('.');
        }
        return b.toString();
    }
}

package io.highwater.core;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What names one stream of a multiplexed connection (an HTTP/2 stream, a gRPC call) on the stream gauge and on its
 * episode span: {@code url.path}, or {@code rpc.service} and {@code rpc.method}. Values are normalised and bounded
 * like call sites: a path loses its query and its identifier-like segments, and once {@link #MAX_VALUES} distinct
 * values of an attribute were seen, new ones read {@code other}, so a client that invents paths or methods cannot mint
 * series.
 */
public final class StreamName {

    public static final int MAX_VALUES = 100;
    static final int MAX_LENGTH = 96;
    public static final String OTHER = "other";
    public static final String UNKNOWN = "unknown";

    private static final Set<String> PATHS = ConcurrentHashMap.newKeySet();
    private static final Set<String> SERVICES = ConcurrentHashMap.newKeySet();
    private static final Set<String> METHODS = ConcurrentHashMap.newKeySet();

    /** Null unless an HTTP stream. */
    public final String urlPath;
    /** Null unless a gRPC call. */
    public final String rpcService;
    public final String rpcMethod;

    private StreamName(String urlPath, String rpcService, String rpcMethod) {
        this.urlPath = urlPath;
        this.rpcService = rpcService;
        this.rpcMethod = rpcMethod;
    }

    /** An HTTP stream; {@code path} as the request said it (null: {@code unknown}). */
    public static StreamName path(String path) {
        return new StreamName(bounded(PATHS, normalisePath(path)), null, null);
    }

    /** A gRPC call of {@code fullMethodName} ({@code package.Service/Method}; null: {@code unknown}). */
    public static StreamName rpc(String fullMethodName) {
        String service = UNKNOWN;
        String method = UNKNOWN;
        if (fullMethodName != null) {
            int slash = fullMethodName.lastIndexOf('/');
            if (slash > 0 && slash < fullMethodName.length() - 1) {
                service = fullMethodName.substring(0, slash);
                method = fullMethodName.substring(slash + 1);
            }
        }
        return new StreamName(null, bounded(SERVICES, clip(service)), bounded(METHODS, clip(method)));
    }

    /** Forgets the values seen (tests: the sets are process-wide). */
    static void forgetSeen() {
        PATHS.clear();
        SERVICES.clear();
        METHODS.clear();
    }

    public boolean isRpc() {
        return rpcService != null;
    }

    static String normalisePath(String path) {
        if (path == null || path.isEmpty()) {
            return UNKNOWN;
        }
        int q = path.indexOf('?');
        String p = q >= 0 ? path.substring(0, q) : path;
        StringBuilder b = new StringBuilder(p.length());
        for (String segment : p.split("/", -1)) {
            if (b.length() > 0 || p.startsWith("/")) {
                b.append('/');
            }
            b.append(isIdentifier(segment) ? "{id}" : segment);
        }
        String out = b.toString();
        if (p.startsWith("/") && out.startsWith("//")) {
            out = out.substring(1);
        }
        return clip(out);
    }

    /** Numbers, UUIDs and long hexadecimal strings: the parts of a path that name a resource, not a route. */
    static boolean isIdentifier(String s) {
        if (s.isEmpty()) {
            return false;
        }
        boolean digits = true;
        boolean hex = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            digits &= c >= '0' && c <= '9';
            hex &= (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
        }
        return digits || (hex && s.length() >= 16);
    }

    private static String clip(String s) {
        return s.length() <= MAX_LENGTH ? s : s.substring(0, MAX_LENGTH);
    }

    private static String bounded(Set<String> seen, String value) {
        if (UNKNOWN.equals(value) || seen.contains(value)) {
            return value;
        }
        if (seen.size() >= MAX_VALUES) {
            return OTHER;
        }
        seen.add(value);
        return value;
    }

    @Override
    public String toString() {
        return isRpc() ? rpcService + "/" + rpcMethod : urlPath;
    }
}

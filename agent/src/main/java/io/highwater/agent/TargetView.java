package io.highwater.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The target JVM's view of the file system. A JVM in a container runs in a mount namespace of its own: the agent jar
 * must lie in that file system for it to load, and the reply file must be a path it can write. From the host (as
 * root, the only user that may attach to another user's JVM), both are reached through {@code /proc/<pid>/root}, and
 * the copies belong to the target's own user. In the same mount namespace (the usual case, and {@code kubectl exec}
 * into the container), nothing moves.
 */
final class TargetView {

    /** Where the target's root is seen from here, or null when the target sees the same file system as we do. */
    private final Path root;
    private final int uid;
    private final int gid;

    private TargetView(Path root, int uid, int gid) {
        this.root = root;
        this.uid = uid;
        this.gid = gid;
    }

    static TargetView of(String pid) {
        Path proc = Paths.get("/proc", pid);
        try {
            String mine = Files.readSymbolicLink(Paths.get("/proc/self/ns/mnt")).toString();
            String theirs = Files.readSymbolicLink(proc.resolve("ns/mnt")).toString();
            if (mine.equals(theirs)) {
                return new TargetView(null, -1, -1);
            }
            int[] ids = ids(Files.readAllLines(proc.resolve("status")));
            return new TargetView(proc.resolve("root"), ids[0], ids[1]);
        } catch (IOException | RuntimeException e) {
            // no /proc (not Linux) or not ours to read: assume the same file system, as the JDK itself does
            return new TargetView(null, -1, -1);
        }
    }

    boolean isOtherFileSystem() {
        return root != null;
    }

    /**
     * The path under which the target can load {@code jar}: the jar itself, or a copy in the target's {@code /tmp}
     * (made once per version and size), owned by the target's user.
     */
    String jarForTarget(Path jar, String version) throws IOException {
        if (root == null) {
            return jar.toAbsolutePath().toString();
        }
        String inTarget = "/tmp/highwater-agent-" + version + "-" + Files.size(jar) + ".jar";
        Path here = here(inTarget);
        if (!Files.isRegularFile(here) || Files.size(here) != Files.size(jar)) {
            Path partial = here(inTarget + ".part");
            Files.copy(jar, partial, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-r--r--"));
            own(partial);
            Files.move(partial, here, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return inTarget;
    }

    /** A fresh reply file name as the target sees it (it creates the file itself, as its own user). */
    String replyPathForTarget(String name) throws IOException {
        if (root == null) {
            Path p = Files.createTempFile("highwater-reply-", ".txt");
            Files.delete(p);
            return p.toString();
        }
        return "/tmp/" + name;
    }

    /** Where a path of the target's is seen from here. */
    Path here(String targetPath) {
        return root == null ? Paths.get(targetPath) : root.resolve(targetPath.substring(1));
    }

    private void own(Path p) throws IOException {
        if (uid >= 0) {
            Files.setAttribute(p, "unix:uid", uid);
            Files.setAttribute(p, "unix:gid", gid);
        }
    }

    /** The effective uid and gid from {@code /proc/<pid>/status}. */
    private static int[] ids(List<String> status) {
        int uid = -1;
        int gid = -1;
        for (String line : status) {
            if (line.startsWith("Uid:")) {
                uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
            } else if (line.startsWith("Gid:")) {
                gid = Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
            }
        }
        return new int[] {uid, gid};
    }
}

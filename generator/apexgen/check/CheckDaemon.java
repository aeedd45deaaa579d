import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.nawforce.apexlink.api.LoadAndRefreshAnalysis$;
import com.nawforce.apexlink.api.Org;
import com.nawforce.apexlink.api.Package;
import com.nawforce.apexlink.rpc.OpenOptions;
import com.nawforce.runtime.platform.Path;
import io.github.apexdevtools.api.Issue;
import io.github.apexdevtools.api.IssueLocation;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.StandardProtocolFamily;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/**
 * apexgen's deep-check daemon: keeps apex-ls' model of one SFDX project in memory, and PMD's classes
 * compiled, between runs of `apexgen check --deep`. A check after a small change then costs apex-ls the
 * refresh of the changed files and their dependants (its editor mode), not a reload of the whole project,
 * and costs PMD no JVM start.
 *
 * <p>Usage: CheckDaemon SOCKET WORKSPACE APEX_LS_CACHE_DIR IDLE_SECONDS JORJE_CLASS_PATH, on the class
 * path of the jars of apex-ls and PMD; JorjeBatch and the jars of jorje load apart, from JORJE_CLASS_PATH.
 * It serves one request per connection on the Unix domain socket SOCKET (whose folder only its user can
 * enter): a line of JSON in, a line of JSON out.
 *
 * <ul>
 *   <li>{"op": "apex-ls", "config": DIGEST, "files": {PATH: DIGEST, ...}}: apex-ls' issues, as
 *       CheckForIssues -f json reports them, after refreshing the files whose content differs from what
 *       its model was last built from (digested by the daemon itself; the client's digests are not
 *       trusted); a new config digest (of sfdx-project.json and .forceignore), or a file added or removed,
 *       reloads all.
 *   <li>{"op": "pmd", "arguments": [...]}: Salesforce's PmdWrapper with these arguments.
 *   <li>{"op": "jorje", "paths": [...]}: the line {"streaming": true}, then JorjeBatch's output for
 *       these paths, to the end of the connection.
 *   <li>{"op": "status"}: {"workspace": WORKSPACE, "pid": PID, "idleSeconds": SECONDS}.
 *   <li>{"op": "stop"}: stop now.
 * </ul>
 *
 * <p>Any failure answers {"error": MESSAGE}; the client then runs the tool itself. It stops after
 * IDLE_SECONDS without a request, or when SOCKET is removed or replaced.
 */
public final class CheckDaemon {
    private static final Gson GSON = new Gson();
    private static final long WATCH_MILLIS = 2_000;
    private static final String UNKNOWN = "";

    private final java.nio.file.Path socket;
    private final String workspace;
    private final String cacheDir;
    private final long idleMillis;
    private final Object apexLsLock = new Object();
    private final Object pmdLock = new Object();
    private final String jorjeClassPath;
    private Method jorjeParseAll; // JorjeBatch.parseAll, loaded on first use by jorje(), which holds this

    private volatile long lastRequest = System.currentTimeMillis();
    private volatile int running = 0;

    // apex-ls' model and what it was built from, guarded by apexLsLock.
    private Org org;
    private String orgConfig;
    private Map<String, String> orgFiles = new HashMap<>();

    private CheckDaemon(
            java.nio.file.Path socket, String workspace, String cacheDir, long idleMillis, String jorjeClassPath) {
        this.socket = socket;
        this.workspace = workspace;
        this.cacheDir = cacheDir;
        this.idleMillis = idleMillis;
        this.jorjeClassPath = jorjeClassPath;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: CheckDaemon SOCKET WORKSPACE APEX_LS_CACHE_DIR IDLE_SECONDS JORJE_CLASS_PATH");
            System.exit(2);
        }
        // The tools print progress on stdout; a daemon has no one to print it for.
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        new CheckDaemon(Paths.get(args[0]), args[1], args[2], Long.parseLong(args[3]) * 1000, args[4]).serve();
    }

    private void serve() throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        // Fails when another daemon holds the socket: that one serves the project.
        server.bind(UnixDomainSocketAddress.of(socket));
        Object socketKey = Files.readAttributes(socket, BasicFileAttributes.class).fileKey();
        Thread watchdog = new Thread(() -> watch(socketKey), "apexgen watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        while (true) {
            SocketChannel client = server.accept();
            Thread worker = new Thread(() -> answer(client), "apexgen request");
            worker.setDaemon(true);
            worker.start();
        }
    }

    /** Stop when idle too long, or when the socket is no longer ours (removed, or bound anew by another). */
    private void watch(Object socketKey) {
        while (true) {
            try {
                Thread.sleep(WATCH_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            Object key;
            try {
                key = Files.readAttributes(socket, BasicFileAttributes.class).fileKey();
            } catch (IOException e) {
                key = null;
            }
            boolean idle = running == 0 && System.currentTimeMillis() - lastRequest > idleMillis;
            if (idle || key == null || !key.equals(socketKey)) {
                stop(key != null && key.equals(socketKey));
            }
        }
    }

    private void stop(boolean removeSocket) {
        if (removeSocket) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                // Left behind: the next client finds no one listening and replaces it.
            }
        }
        System.exit(0);
    }

    private void answer(SocketChannel client) {
        synchronized (this) {
            running++;
        }
        boolean keepsAlive = true; // a status request does not: asking how long it idled must not reset it
        try (client) {
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
            String line = in.readLine();
            OutputStream out = Channels.newOutputStream(client);
            JsonObject reply;
            try {
                JsonObject request = JsonParser.parseString(line == null ? "{}" : line).getAsJsonObject();
                keepsAlive = !(request.has("op") && request.get("op").getAsString().equals("status"));
                if (request.has("op") && request.get("op").getAsString().equals("jorje")) {
                    streamJorje(request, out);
                    return;
                }
                reply = handle(request);
            } catch (Throwable failure) {
                reply = new JsonObject();
                reply.addProperty("error", String.valueOf(failure));
            }
            writeLine(out, reply);
            if (reply.has("stopping")) {
                stop(true);
            }
        } catch (IOException e) {
            // The client went away: nothing to answer.
        } finally {
            synchronized (this) {
                running--;
                if (keepsAlive) {
                    lastRequest = System.currentTimeMillis();
                }
            }
        }
    }

    private static void writeLine(OutputStream out, JsonObject reply) throws IOException {
        out.write((GSON.toJson(reply) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** JorjeBatch's output for the request's paths, after a first line that says it follows. */
    private void streamJorje(JsonObject request, OutputStream out) throws Exception {
        List<String> paths = new ArrayList<>();
        request.getAsJsonArray("paths").forEach(path -> paths.add(path.getAsString()));
        Method parseAll = jorje();
        JsonObject header = new JsonObject();
        header.addProperty("streaming", true);
        writeLine(out, header);
        parseAll.invoke(null, paths, out);
    }

    /**
     * JorjeBatch.parseAll, from a class loader of its own: jorje's jars (with the web server the
     * serializer ships) stay apart from apex-ls' and PMD's.
     */
    private synchronized Method jorje() throws Exception {
        if (jorjeParseAll == null) {
            List<URL> urls = new ArrayList<>();
            for (String entry : jorjeClassPath.split(File.pathSeparator)) {
                if (entry.endsWith("*")) {
                    File[] jars = new File(entry.substring(0, entry.length() - 1)).listFiles((d, n) -> n.endsWith(".jar"));
                    for (File jar : jars == null ? new File[0] : jars) {
                        urls.add(jar.toURI().toURL());
                    }
                } else {
                    urls.add(new File(entry).toURI().toURL());
                }
            }
            ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
            jorjeParseAll = Class.forName("JorjeBatch", true, loader).getMethod("parseAll", List.class, OutputStream.class);
        }
        return jorjeParseAll;
    }

    private JsonObject handle(JsonObject request) throws Exception {
        String op = request.has("op") ? request.get("op").getAsString() : "";
        JsonObject reply = new JsonObject();
        switch (op) {
            case "apex-ls":
                synchronized (apexLsLock) {
                    try {
                        reply.add("report", apexLsReport(request));
                    } catch (RuntimeException | Error failure) {
                        org = null; // a refresh that failed half-way: load the project anew next time
                        throw failure;
                    }
                }
                return reply;
            case "pmd":
                JsonArray arguments = request.getAsJsonArray("arguments");
                String[] pmdArguments = new String[arguments.size()];
                for (int i = 0; i < pmdArguments.length; i++) {
                    pmdArguments[i] = arguments.get(i).getAsString();
                }
                synchronized (pmdLock) {
                    com.salesforce.sfca.pmdwrapper.PmdWrapper.main(pmdArguments);
                }
                reply.addProperty("done", true);
                return reply;
            case "status":
                reply.addProperty("workspace", workspace);
                reply.addProperty("pid", ProcessHandle.current().pid());
                reply.addProperty("idleSeconds", (System.currentTimeMillis() - lastRequest) / 1000);
                return reply;
            case "stop":
                reply.addProperty("stopping", true); // answer() stops once the client has it
                return reply;
            default:
                throw new IllegalArgumentException("unknown op '" + op + "'");
        }
    }

    /**
     * apex-ls' issues after bringing its model up to date with the files the request lists.
     *
     * <p>The model is checked against the files themselves, not against what the client says of them: the
     * daemon digests each file before apex-ls reads it and again after, and records a file's digest only
     * when the two agree, so it knows what its model holds even when a file changes during a request (an
     * editor saving, a branch switch). A file whose digest differs from the one recorded is refreshed; a file
     * added, removed or unreadable, or one apex-ls places in no package, reloads the whole project, as
     * apex-ls run alone would read it.
     */
    private JsonObject apexLsReport(JsonObject request) {
        String config = request.get("config").getAsString();
        Set<String> paths = new HashSet<>(request.getAsJsonObject("files").keySet());
        Map<String, String> before = digests(paths);
        boolean reload = org == null
                || !config.equals(orgConfig)
                || !paths.equals(orgFiles.keySet())
                || before.containsValue(UNKNOWN); // a file it cannot read is one it cannot vouch for
        if (!reload) {
            for (String path : paths) {
                if (before.get(path).equals(orgFiles.get(path))) {
                    continue;
                }
                Package owner = org.getPackageForPath(path);
                if (owner == null) {
                    reload = true;
                    break;
                }
                owner.refresh(path, false);
            }
        }
        if (reload) {
            org = null; // let the old model go before the new one loads
            orgFiles = new HashMap<>();
            // As CheckForIssues -c CACHE_DIR opens a workspace.
            OpenOptions options = OpenOptions.create()
                    .withParser("OutlineSingle")
                    .withAutoFlush(false)
                    .withExternalAnalysisMode(
                            LoadAndRefreshAnalysis$.MODULE$.shortName(), scala.collection.immutable.Map$.MODULE$.empty())
                    .withLoggingLevel("none")
                    .withCacheDirectory(cacheDir)
                    .withUnused(false);
            org = Org.newOrg(Path.apply(workspace), options);
            orgConfig = config;
        }
        org.flush(); // runs the queued refreshes and writes apex-ls' cache
        Map<String, String> after = digests(paths);
        after.replaceAll((path, digest) -> digest.equals(before.get(path)) ? digest : UNKNOWN);
        orgFiles = after; // a file that changed meanwhile is UNKNOWN: the next request refreshes it
        return issues(org);
    }

    /** The SHA-256 of each file's content now; UNKNOWN for one that cannot be read as a regular file. */
    private static Map<String, String> digests(Set<String> paths) {
        Map<String, String> digests = new HashMap<>();
        for (String path : paths) {
            java.nio.file.Path file = Paths.get(path);
            String digest = UNKNOWN;
            try {
                if (Files.isRegularFile(file)) { // follows the mirror's links; never opens a FIFO
                    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                    digest = HexFormat.of().formatHex(sha256.digest(Files.readAllBytes(file)));
                }
            } catch (IOException | NoSuchAlgorithmException e) {
                // UNKNOWN: never equal to a recorded digest, so the file is refreshed
            }
            digests.put(path, digest);
        }
        return digests;
    }

    /** The errors apex-ls holds, in CheckForIssues' JSON report (-f json, default detail). */
    private static JsonObject issues(Org org) {
        JsonArray reported = new JsonArray();
        JsonObject current = null;
        for (Issue issue : org.issues().issuesForFiles(null, false, 0)) {
            if (!issue.isError()) {
                continue;
            }
            if (current == null || !current.get("path").getAsString().equals(issue.filePath())) {
                current = new JsonObject();
                current.addProperty("path", issue.filePath());
                current.add("messages", new JsonArray());
                reported.add(current);
            }
            IssueLocation location = issue.fileLocation();
            JsonObject message = new JsonObject();
            message.add("start", position(location.startLineNumber(), location.startCharOffset()));
            message.add("end", position(location.endLineNumber(), location.endCharOffset()));
            message.addProperty("category", issue.rule().name());
            message.addProperty("message", issue.message());
            current.getAsJsonArray("messages").add(message);
        }
        JsonObject report = new JsonObject();
        report.add("files", reported);
        return report;
    }

    private static JsonObject position(int line, int offset) {
        JsonObject position = new JsonObject();
        position.addProperty("line", line);
        position.addProperty("offset", offset);
        return position;
    }
}

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.logging.LogManager;
import net.dangmai.serializer.Apex;

/**
 * Parses many Apex files with jorje in one JVM, for apexgen's deep check (apexgen/check/deep.py).
 *
 * <p>stdin: one path per line. stdout: for each path, in order, one line with the JSON AST that
 * prettier-plugin-apex's own serializer writes for that file (parse errors included).
 *
 * <p>The serializer's command line parses one file per process and its HTTP server spends most of
 * its time in HTTP; this loop calls the same public method the command line calls.
 */
public class JorjeBatch {
  public static void main(String[] args) throws IOException {
    // jorje logs at INFO on stderr; the serializer's own main silences it the same way.
    LogManager.getLogManager().reset();
    BufferedReader paths =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Writer out =
        new BufferedWriter(
            new OutputStreamWriter(
                new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8),
            1 << 16);
    for (String path; (path = paths.readLine()) != null; ) {
      // Bytes that are not UTF-8 become U+FFFD rather than stopping the batch.
      try (Reader source =
          new InputStreamReader(Files.newInputStream(Paths.get(path)), StandardCharsets.UTF_8)) {
        // Not anonymous Apex, not pretty-printed: compact JSON holds no line break.
        Apex.getAST(false, false, source, out);
      }
      out.write('\n');
    }
    out.flush();
  }
}

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.LogManager;
import net.dangmai.serializer.Apex;

/**
 * Parses many Apex files with jorje in one JVM, for apexgen's deep check (apexgen/check/deep.py).
 *
 * <p>stdin: one path per line (read to its end first). stdout: for each path, in order, one line with the JSON AST that
 * prettier-plugin-apex's own serializer writes for that file (parse errors included), or a line
 * {"apexgenFailure": REASON} when jorje could not parse it at all.
 *
 * <p>The serializer's command line parses one file per process and its HTTP server spends most of
 * its time in HTTP; this loop calls the same public method the command line calls.
 */
public class JorjeBatch {
  /** Any line that is not an AST: the file named on that line could not be parsed at all. */
  private static final String FAILURE = "{\"apexgenFailure\":";

  /**
   * The AST of the file at {@code path}, or a FAILURE line naming what stopped jorje on it (a class
   * nested thousands deep overflows its stack): one file's failure does not stop the batch.
   */
  static String parse(String path) {
    try {
      // Bytes that are not UTF-8 become U+FFFD rather than stopping the batch.
      String text = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
      // A UTF-8 byte order mark is not Apex: jorje would read it as part of the first identifier.
      if (text.startsWith("\uFEFF")) {
        text = text.substring(1);
      }
      StringWriter ast = new StringWriter(text.length() * 8);
      // Not anonymous Apex, not pretty-printed: compact JSON holds no line break.
      Apex.getAST(false, false, new StringReader(text), ast);
      return ast.toString();
    } catch (Throwable failure) {
      String reason = (failure.getClass().getSimpleName() + " " + String.valueOf(failure.getMessage()))
          .replace("\\", "\\\\").replace("\"", "\\\"").replaceAll("[\\x00-\\x1f]", " ");
      return FAILURE + "\"" + reason + "\"}";
    }
  }

  public static void main(String[] args) throws IOException {
    BufferedReader paths =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    List<String> all = new ArrayList<>();
    for (String path; (path = paths.readLine()) != null; ) {
      all.add(path);
    }
    parseAll(all, new FileOutputStream(FileDescriptor.out));
  }

  /** Writes the line of each path, in order, to {@code stream} (apexgen's check daemon calls it too). */
  public static void parseAll(List<String> paths, OutputStream stream) throws IOException {
    // jorje logs at INFO on stderr; the serializer's own main silences it the same way.
    LogManager.getLogManager().reset();
    Writer out = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 16);
    for (String path : paths) {
      out.write(parse(path));
      out.write('\n');
    }
    out.flush();
  }
}

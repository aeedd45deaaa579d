// Parse Apex files with jorje (Salesforce's Apex parser) and format them with prettier-plugin-apex,
// in one Node process, parsing each file once. Run by generator/check.py.
//
// stdin:  {"nodeModules": DIR, "files": [ABS_PATH...], "format": BOOL, "prettierConfig": PATH | null}
// stdout: {"files": [{"path", "syntaxErrors": [{"line", "column", "message"}], "formatted", "formatError"}]}
//         or {"configError": MESSAGE} when the prettier config cannot be read
//
// The project's config is resolved by prettier itself (so its overrides apply), but its "plugins" are
// dropped: a name like "prettier-plugin-apex" only resolves where the project has its own node_modules.
// The plugin is passed by absolute path instead.
//
// jorje runs as the native binary that prettier-plugin-apex itself uses (found with the plugin's own
// lookup). Its JSON AST carries parse errors with line and column, which prettier's error message
// drops. To format without a second parse, the plugin is pointed at its documented "built-in" parser
// server, which here is a local HTTP server answering from the ASTs already parsed.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const request = JSON.parse(readFileSync(0, "utf8"));
const nodeModule = (relative) => pathToFileURL(path.join(request.nodeModules, relative)).href;
const prettier = await import(nodeModule("prettier/index.mjs"));
const pluginPath = path.join(request.nodeModules, "prettier-plugin-apex/dist/src/index.js");
const { getNativeExecutableWithFallback } = await import(nodeModule("prettier-plugin-apex/dist/src/util.js"));
const serializer = await getNativeExecutableWithFallback();
const PARSER_OUTPUT = "apex.jorje.semantic.compiler.parser.ParserOutput";

function parseWithJorje(text) {
  return new Promise((resolve, reject) => {
    const child = spawn(serializer, [], { stdio: ["pipe", "pipe", "pipe"] });
    const stdout = [];
    const stderr = [];
    child.stdout.on("data", (chunk) => stdout.push(chunk));
    child.stderr.on("data", (chunk) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const output = Buffer.concat(stdout).toString("utf8");
      if (code === 0 && output) resolve(output);
      else reject(new Error(`${serializer} exited with ${code}: ${Buffer.concat(stderr).toString("utf8")}`));
    });
    child.stdin.end(text);
  });
}

// The plugin trims the source before parsing it. Trailing whitespace does not change jorje's AST, so
// the AST of a file without leading whitespace serves its trimmed text; anything else is parsed again.
const parsedBySource = new Map();
const server = http.createServer((req, res) => {
  const body = [];
  req.on("data", (chunk) => body.push(chunk));
  req.on("end", async () => {
    try {
      const { sourceCode } = JSON.parse(Buffer.concat(body).toString("utf8"));
      const ast = parsedBySource.get(sourceCode) ?? (await parseWithJorje(sourceCode));
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(ast);
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

class ConfigError extends Error {}

async function projectOptions(file) {
  if (!request.format || !request.prettierConfig) return {};
  try {
    const { plugins, ...options } =
      (await prettier.resolveConfig(file, { config: request.prettierConfig, editorconfig: false })) ?? {};
    return options;
  } catch (error) {
    throw new ConfigError(String(error.message ?? error).split("\n")[0]);
  }
}

async function checkFile(file) {
  const text = await readFile(file, "utf8");
  const ast = await parseWithJorje(text);
  const syntaxErrors = JSON.parse(ast)[PARSER_OUTPUT].parseErrors.map((error) => {
    const loc = error.error?.error?.loc ?? {};
    return { line: loc.line ?? 0, column: loc.column ?? 0, message: error.message };
  });
  const result = { path: file, syntaxErrors, formatted: null, formatError: null };
  if (!request.format || syntaxErrors.length) return result;
  const options = await projectOptions(file);
  const key = text.trim();
  if (text.trimStart() === text) parsedBySource.set(key, ast);
  try {
    result.formatted = await prettier.format(text, {
      ...options,
      filepath: file,
      plugins: [pluginPath],
      apexStandaloneParser: "built-in",
      apexStandaloneHost: "127.0.0.1",
      apexStandalonePort: server.address().port,
    });
  } catch (error) {
    result.formatError = String(error.message ?? error).split("\n")[0];
  } finally {
    parsedBySource.delete(key);
  }
  return result;
}

// Each jorje parse is a separate process: keep one per core busy while the main thread formats.
const pending = [...request.files];
const results = [];
async function worker() {
  while (pending.length) {
    results.push(await checkFile(pending.shift()));
  }
}
try {
  await Promise.all(Array.from({ length: os.availableParallelism() }, worker));
  process.stdout.write(JSON.stringify({ files: results }));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stdout.write(JSON.stringify({ configError: error.message }));
} finally {
  server.close();
}

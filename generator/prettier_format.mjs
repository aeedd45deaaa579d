// Format Apex files with prettier and prettier-plugin-apex, in one Node process. Run by generator/check.py.
//
// stdin:  {"nodeModules": DIR, "files": [{"path": ABS_PATH, "ast": ABS_PATH}], "prettierConfig": PATH | null}
// stdout: {"files": [{"path", "formatted", "formatError"}]}
//         or {"configError": MESSAGE} when the prettier config cannot be read
//
// check.py has already parsed every file with jorje and saved its JSON AST ("ast"). The plugin is pointed
// at its documented "built-in" parser server, which here is a local HTTP server answering from those
// ASTs, so no file is parsed twice. The project's config is resolved by prettier itself (so overrides
// apply), but its "plugins" are dropped: a name like "prettier-plugin-apex" only resolves where the
// project has its own node_modules. The plugin is passed by absolute path instead.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const request = JSON.parse(readFileSync(0, "utf8"));
const nodeModule = (relative) => pathToFileURL(path.join(request.nodeModules, relative)).href;
const prettier = await import(nodeModule("prettier/index.mjs"));
const pluginPath = path.join(request.nodeModules, "prettier-plugin-apex/dist/src/index.js");
const { getNativeExecutableWithFallback } = await import(nodeModule("prettier-plugin-apex/dist/src/util.js"));

// For text without a saved AST: parse it as the plugin would have.
async function parseWithJorje(text) {
  const serializer = await getNativeExecutableWithFallback();
  return new Promise((resolve, reject) => {
    const child = spawn(serializer, [], { stdio: ["pipe", "pipe", "inherit"] });
    const stdout = [];
    child.stdout.on("data", (chunk) => stdout.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(stdout)) : reject(new Error(`jorje exited with ${code}`))));
    child.stdin.end(text);
  });
}

// The plugin trims the source before parsing it. Trailing whitespace does not change jorje's AST, so
// the AST of a file without leading whitespace serves its trimmed text.
const astFileBySource = new Map();
const server = http.createServer((req, res) => {
  const body = [];
  req.on("data", (chunk) => body.push(chunk));
  req.on("end", async () => {
    try {
      const { sourceCode } = JSON.parse(Buffer.concat(body).toString("utf8"));
      const astFile = astFileBySource.get(sourceCode);
      const ast = astFile ? await readFile(astFile) : await parseWithJorje(sourceCode);
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
  if (!request.prettierConfig) return {};
  try {
    const { plugins, ...options } =
      (await prettier.resolveConfig(file, { config: request.prettierConfig, editorconfig: false })) ?? {};
    return options;
  } catch (error) {
    throw new ConfigError(String(error.message ?? error).split("\n")[0]);
  }
}

async function formatFile({ path: file, ast }) {
  const text = await readFile(file, "utf8");
  const options = await projectOptions(file);
  const result = { path: file, formatted: null, formatError: null };
  const key = text.trim();
  if (text.trimStart() === text) astFileBySource.set(key, ast);
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
    astFileBySource.delete(key);
  }
  return result;
}

try {
  // One file at a time: formatting is CPU work on this one thread.
  const results = [];
  for (const file of request.files) results.push(await formatFile(file));
  process.stdout.write(JSON.stringify({ files: results }));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stdout.write(JSON.stringify({ configError: error.message }));
} finally {
  server.close();
}

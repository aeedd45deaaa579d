// Format Apex files with prettier and prettier-plugin-apex, in one Node process. Run by apexgen/check/deep.py.
//
// argv:   REQUEST_FILE, holding {"nodeModules": DIR, "files": [ABS_PATH], "prettierConfig": PATH | null}
// stdin:  the output of JorjeBatch.java for the same files: one JSON AST (jorje's ParserOutput) per line
// stdout: {"files": [{"path", "syntaxErrors": [[line, column, message]], "formatted", "formatError", "failure"}]}
//         ("formatted" is null where the file does not parse or the project's .prettierrc does not
//         format it with prettier-plugin-apex; "failure" says why jorje could not parse the file at all)
//         or {"configError": MESSAGE} when the prettier config cannot be read
//
// Every file is parsed once, by jorje in one JVM, and its AST streams in here. The plugin asks its
// documented "built-in" parser server for each AST with fetch(); requests to AST_HOST are answered in this
// process from the ASTs already read, so no server, socket or second parse is needed. The project's config
// is resolved by prettier itself (so overrides apply), but its "plugins" are dropped: a name like
// "prettier-plugin-apex" only resolves where the project has its own node_modules. The plugin is passed by
// absolute path instead.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const nodeModule = (relative) => pathToFileURL(path.join(request.nodeModules, relative)).href;
const prettier = await import(nodeModule("prettier/index.mjs"));
const pluginPath = path.join(request.nodeModules, "prettier-plugin-apex/dist/src/index.js");
const { getNativeExecutableWithFallback } = await import(nodeModule("prettier-plugin-apex/dist/src/util.js"));
const PARSER_OUTPUT = "apex.jorje.semantic.compiler.parser.ParserOutput";
// jorje writes compact JSON, in which a string cannot hold this text unescaped: where it is found, there
// are no parse errors and the AST (tens of kB a class) is left to the plugin to decode.
const NO_PARSE_ERRORS = '"parseErrors":[]';

// The plugin asks for the AST of the text prettier hands it: the file trimmed (the plugin's preprocess),
// with CRLF line ends turned into LF (prettier's). Trailing whitespace does not change jorje's AST, so the
// streamed AST serves the trimmed text; for other text (a file that starts with whitespace or has CRLF
// line ends) the plugin's own native parser runs, as it would without apexgen.
const AST_HOST = "apexgen-jorje.invalid";
const astBySource = new Map();
const networkFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  if (new URL(url).hostname !== AST_HOST) return networkFetch(url, init);
  const { sourceCode } = JSON.parse(init.body);
  const ast = astBySource.get(sourceCode) ?? (await parseWithNativeJorje(sourceCode));
  return new Response(ast, { headers: { "Content-Type": "application/json" } });
};

async function parseWithNativeJorje(text) {
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

class ConfigError extends Error {}

const isApexPlugin = (plugin) =>
  typeof plugin === "string" ? plugin.includes("prettier-plugin-apex") : Boolean(plugin?.parsers?.apex);

// The options for formatting `file`, or null where the project does not format it with
// prettier-plugin-apex: there prettier's defaults would flag every file formatted by hand.
async function projectOptions(file) {
  if (!request.prettierConfig) return null;
  let config;
  try {
    config = await prettier.resolveConfig(file, { config: request.prettierConfig, editorconfig: false });
  } catch (error) {
    throw new ConfigError(String(error.message ?? error).split("\n")[0]);
  }
  const { plugins = [], ...options } = config ?? {};
  return plugins.some(isApexPlugin) ? options : null;
}

function syntaxErrors(ast) {
  if (ast.includes(NO_PARSE_ERRORS)) return [];
  return JSON.parse(ast)[PARSER_OUTPUT].parseErrors.map((error) => {
    const location = error.error?.error?.loc ?? {};
    return [location.line ?? 0, location.column ?? 0, error.message ?? ""];
  });
}

// JorjeBatch's line for a file jorje could not parse at all (e.g. nested too deep for its stack).
const FAILURE = '{"apexgenFailure":';

async function formatFile(file, ast) {
  if (ast.startsWith(FAILURE)) {
    return { path: file, syntaxErrors: [], formatted: null, formatError: null, failure: JSON.parse(ast).apexgenFailure };
  }
  const result = { path: file, syntaxErrors: syntaxErrors(ast), formatted: null, formatError: null, failure: null };
  if (result.syntaxErrors.length) return result;
  const options = await projectOptions(file);
  if (options === null) return result;
  const text = await readFile(file, "utf8");
  const key = text.trim();
  if (text.trimStart() === text) astBySource.set(key, ast);
  try {
    result.formatted = await prettier.format(text, {
      ...options,
      filepath: file,
      plugins: [pluginPath],
      apexStandaloneParser: "built-in",
      apexStandaloneHost: AST_HOST,
      apexStandaloneProtocol: "http",
    });
  } catch (error) {
    result.formatError = String(error.message ?? error).split("\n")[0];
  } finally {
    astBySource.delete(key);
  }
  return result;
}

// check.py's JORJE_STOPPED_EXIT: jorje's output ended early, so jorje, not this script, failed.
const JORJE_STOPPED_EXIT = 65;
const asts = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
try {
  // One file at a time: formatting is CPU work on this one thread, while jorje parses the next files.
  const results = [];
  for (const file of request.files) {
    const { value: ast, done } = await asts.next();
    if (done) {
      process.stderr.write(`jorje stopped before ${file}\n`);
      process.exit(JORJE_STOPPED_EXIT);
    }
    results.push(await formatFile(file, ast));
  }
  process.stdout.write(JSON.stringify({ files: results }));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stdout.write(JSON.stringify({ configError: error.message }));
}

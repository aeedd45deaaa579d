// Builds generator/apexgen/generate/display_width.json: how prettier's getStringWidth measures each code point alone,
// followed by U+FE0F (emoji presentation) and followed by a skin-tone modifier. generator/apexgen/generate/apex_format.py
// measures annotation lines with it, so its line breaks match prettier's. Rebuild when prettier is
// upgraded:  node scripts/build_width_table.mjs
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const prettier = await import(pathToFileURL(path.join(root, "node_modules/prettier/index.mjs")).href);
const width = prettier.util.getStringWidth;
const SKIN = "\u{1F3FB}";

// Runs of code points that measure alike: [first, last, alone, withVariationSelector, withSkinTone]
const runs = [];
for (let code = 0x80; code <= 0x10ffff; code++) {
  if (code >= 0xd800 && code <= 0xdfff) continue;
  const char = String.fromCodePoint(code);
  const key = [width(char), width(char + "\uFE0F"), width(char + SKIN)];
  const last = runs[runs.length - 1];
  if (last && last[1] === code - 1 && last[2] === key[0] && last[3] === key[1] && last[4] === key[2]) {
    last[1] = code;
  } else {
    runs.push([code, code, ...key]);
  }
}
const table = { prettier: prettier.version, runs };
writeFileSync(path.join(root, "generator/apexgen/generate/display_width.json"), JSON.stringify(table) + "\n");
console.log(`prettier ${prettier.version}: ${runs.length} runs`);

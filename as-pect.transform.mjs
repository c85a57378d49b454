// as-pect's transform (it gives every class the members toStrictEqual and value reflection call),
// with the compiler's enums numbered as the compiler at hand numbers them. @as-pect/transform 8.1
// was compiled against AssemblyScript 0.27, and tsc inlined 0.27's const-enum numbers into it
// (`51 /* NodeKind.ClassDeclaration */`); 0.28 renumbered NodeKind, so there the transform finds no
// class and every spec fails to compile. On 0.27 the numbers agree and the package is used as it is.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import * as compiler from "assemblyscript";

const require = createRequire(import.meta.url);
const lib = dirname(require.resolve("@as-pect/transform"));
const { version } = require("assemblyscript/package.json");
const INLINED = /\b(\d+) \/\* (\w+)\.(\w+) \*\//g;

function renumber(text, file) {
  return text.replace(INLINED, (_, _number, enumName, member) => {
    const value = compiler[enumName]?.[member];
    if (typeof value !== "number") throw new Error(`${file}: AssemblyScript ${version} has no ${enumName}.${member}`);
    return `${value} /* ${enumName}.${member} */`;
  });
}

const files = readdirSync(lib).filter((name) => name.endsWith(".js"));
const sources = new Map(files.map((name) => [name, readFileSync(join(lib, name), "utf8")]));
const renumbered = new Map(files.map((name) => [name, renumber(sources.get(name), name)]));
let entry = join(lib, "index.js");
if (files.some((name) => renumbered.get(name) !== sources.get(name))) {
  // Inside node_modules, so the copy's imports of "assemblyscript/..." resolve to the compiler at hand.
  const copy = join(lib, `../../../.cache/proxy-wasm-as/as-pect-transform-assemblyscript-${version}`);
  mkdirSync(copy, { recursive: true });
  for (const [name, text] of renumbered) writeFileSync(join(copy, name), text);
  entry = join(copy, "index.js");
}

export default (await import(pathToFileURL(entry).href)).default;

// The source map `build` writes next to each module (plugin.wasm.map). asc writes it with a sourceMappingURL
// section in the module; that section is taken out again, so the module is the same bytes as a build without a
// map (the host finds the map next to the module and gives V8 its absolute URL). The map's sources point at the
// files on disk (relative to the map), so editors and DevTools resolve breakpoints in assembly/index.ts; the
// standard library and the SDK go on DevTools' ignore list; release modules have no name section, so the one
// binaryen would write (functions and locals) is kept in the map for the host to add when it compiles the module.

import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { nameSection, withoutSourceMappingUrl } from "../../host/debug/custom-sections.js";
import { NAME_SECTION_FIELD } from "../../host/debug/trap-location.js";
import type { FileHashes } from "./build-cache.js";

/** asc's arguments for a map (asc names it after the module). */
export const SOURCE_MAP_ARGS = ["--sourceMap"];

/**
 * Worker code: when asc emits the module with its map, emit it once more with names (binaryen's debug info) to
 * learn each function's name. The extra emit does not change the module asc writes.
 */
export const CAPTURE_NAMES = `
async function captureNames(binaryenUrl) {
  let named = null;
  const { default: binaryen } = await import(binaryenUrl);
  const wrap = binaryen.wrapModule;
  binaryen.wrapModule = function (ref) {
    const module = wrap.call(this, ref);
    const emit = module.emitBinary;
    module.emitBinary = function (sourceMapUrl) {
      const out = emit.call(this, sourceMapUrl);
      if (sourceMapUrl) {
        const debugInfo = binaryen.getDebugInfo();
        binaryen.setDebugInfo(true);
        try { named = emit.call(this); } finally { binaryen.setDebugInfo(debugInfo); }
      }
      return out;
    };
    return module;
  };
  return () => named;
}
`;

/** The binaryen asc uses (the worker patches that one). */
export function binaryenUrl(ascUrl: string): string {
  return pathToFileURL(createRequire(fileURLToPath(ascUrl)).resolve("binaryen")).href;
}

/** Where the map of `outFile` goes. */
export function sourceMapOf(outFile: string): string {
  return `${outFile}.map`;
}

interface RawMap {
  version: number;
  sources: string[];
  sourceRoot?: string;
  [field: string]: unknown;
}

/** Takes the sourceMappingURL out of the module and makes the map asc wrote ready for debuggers. */
export function finishSourceMap(dir: string, outFile: string, named: Uint8Array | null, reads: FileHashes): void {
  const module = readFileSync(outFile);
  const shipped = withoutSourceMappingUrl(module);
  if (shipped !== module) writeFileSync(outFile, shipped);
  const written = join(dirname(outFile), `${basename(outFile).replace(/\.\w+$/, "")}.wasm.map`);
  const mapFile = sourceMapOf(outFile);
  if (!existsSync(written)) return;
  if (written !== mapFile) renameSync(written, mapFile);
  const map = JSON.parse(readFileSync(mapFile, "utf8")) as RawMap;
  const onDisk = Object.keys(reads).filter((path) => reads[path] !== null);
  const ignored: number[] = [];
  map.sources = map.sources.map((source, i) => {
    let path: string | null = null;
    if (source.startsWith("~lib/")) {
      const tail = `${sep}${source.slice("~lib/".length).split("/").join(sep)}`;
      const found = onDisk.filter((p) => p.endsWith(tail) && p.includes(`node_modules${sep}`)).sort((a, b) => a.length - b.length)[0];
      path = found === undefined ? null : realpathSync(found);
      ignored.push(i);
    } else {
      path = resolve(dir, source);
    }
    return path === null ? source : relative(dirname(mapFile), path).split(sep).join("/");
  });
  delete map.sourceRoot;
  map.x_google_ignoreList = ignored;
  const names = named === null ? null : nameSection(named);
  if (names !== null) map[NAME_SECTION_FIELD] = Buffer.from(names).toString("base64");
  writeFileSync(mapFile, JSON.stringify(map));
}

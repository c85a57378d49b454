// The build cache: a build whose inputs did not change runs no compiler. The inputs are every file asc
// read (and every file it looked for and did not find: one appearing changes the build), the asconfig
// chain, the SDK's transform (which also reads the SDK's runtime by itself), the compiler's version and
// the arguments. Kept next to the output, per target, in .proxy-wasm-as-build.json.

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path → SHA-256 of the content, null when there is no such file. */
export type FileHashes = Record<string, string | null>;

interface Entry {
  key: string;
  inputs: FileHashes;
  output: string;
  /** The source map's hash (build-source-map.ts). */
  map?: string;
}

const CACHE_FILE = ".proxy-wasm-as-build.json";
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const compilerVersion = (createRequire(import.meta.url)("assemblyscript/package.json") as { version: string }).version;

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function hashFile(path: string): string | null {
  try {
    return sha256(readFileSync(path));
  } catch {
    return null;
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** asconfig.json and the files it extends, by relative path, as asc follows them. */
function asconfigChain(dir: string): string[] {
  const chain: string[] = [];
  let path: string | null = resolve(dir, "asconfig.json");
  while (path && !chain.includes(path) && chain.length < 16) {
    chain.push(path);
    let parent: unknown;
    try {
      parent = (JSON.parse(readFileSync(path, "utf8")) as { extends?: unknown }).extends;
    } catch {
      break;
    }
    path = typeof parent === "string" ? resolve(dirname(path), parent) : null;
  }
  return chain;
}

/** What every build of `dir` with `args` depends on besides the sources asc reads. */
export function cacheKey(dir: string, args: string[]): string {
  const fixed = [...asconfigChain(dir), ...filesUnder(join(packageRoot, "dist", "transform")), ...filesUnder(join(packageRoot, "assembly", "runtime"))];
  return sha256(JSON.stringify({ compilerVersion, args, files: fixed.map((f) => [f, hashFile(f)]) }));
}

function cachePath(outFile: string): string {
  return join(dirname(outFile), CACHE_FILE);
}

function readCache(outFile: string): Record<string, Entry> {
  try {
    return JSON.parse(readFileSync(cachePath(outFile), "utf8")) as Record<string, Entry>;
  } catch {
    return {};
  }
}

/** The last build of `target` had this key, the same inputs, and its output is still what it wrote. */
export function isUpToDate(dir: string, target: string, key: string, outFile: string): boolean {
  const entry = readCache(outFile)[`${resolve(dir)} ${target}`];
  if (!entry || entry.key !== key || hashFile(outFile) !== entry.output || hashFile(`${outFile}.map`) !== entry.map) return false;
  return Object.entries(entry.inputs).every(([path, hash]) => hashFile(path) === hash);
}

export function recordBuild(dir: string, target: string, key: string, outFile: string, inputs: FileHashes): void {
  const cache = readCache(outFile);
  cache[`${resolve(dir)} ${target}`] = { key, inputs, output: hashFile(outFile) ?? "", map: hashFile(`${outFile}.map`) ?? "" };
  try {
    writeFileSync(cachePath(outFile), `${JSON.stringify(cache)}\n`);
  } catch {
    // No cache only means the next build compiles again.
  }
}

/** The folders holding a build's inputs (for --watch). */
export function inputFolders(outFile: string): string[] {
  const folders = new Set<string>();
  for (const entry of Object.values(readCache(outFile))) {
    for (const path of Object.keys(entry.inputs)) if (existsSync(dirname(path))) folders.add(dirname(path));
  }
  return [...folders].sort();
}

// `proxy-wasm-as build [DIR] [--target release|debug] [--watch] [--json]`: compiles the filter
// project in DIR with its asconfig.json (which extends the package's preset) through asc's API, then
// checks the module as Envoy would load it: only Envoy's imports, an ABI marker, an allocator, no
// start section. A module that is not Envoy-ready fails the build with the reason.
// asc runs in a worker thread so the main thread can show progress. A build whose inputs did not
// change (build-cache.ts) compiles nothing; --watch rebuilds when one of them changes.

import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Command } from "commander";
import { checkModule } from "../../host/index.js";
import { colourEnabled, painter } from "../../devproxy/log.js";
import { reportErrors } from "../report-errors.js";
import { cacheKey, isUpToDate, recordBuild, type FileHashes } from "./build-cache.js";
import { watchBuilds } from "./build-watch.js";
import { binaryenUrl, CAPTURE_NAMES, finishSourceMap, SOURCE_MAP_ARGS } from "./build-source-map.js";

interface AscDone {
  error: string | null;
  stdout: string;
  stderr: string;
  /** Every file asc asked for, with its SHA-256 (null: it did not exist), for the build cache. */
  reads: FileHashes;
  /** The module with binaryen's names (build-source-map.ts). */
  named: Uint8Array | null;
}

/**
 * The worker: a few lines that import only the compiler (by resolved URL), so it does not load
 * this CLI's modules again. It reads files for asc and notes each one's hash.
 */
const ASC_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { readFile } = require("node:fs/promises");
const { resolve } = require("node:path");
const reads = {};
async function readAndNote(name, baseDir) {
  const path = resolve(baseDir, name);
  try {
    const text = await readFile(path, "utf8");
    reads[path] = createHash("sha256").update(text).digest("hex");
    return text;
  } catch {
    reads[path] = null;
    return null;
  }
}
${CAPTURE_NAMES}
import(workerData.ascUrl).then(async ({ default: asc }) => {
  const named = await captureNames(workerData.binaryenUrl);
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main(workerData.args, { stdout, stderr, readFile: readAndNote });
  parentPort.postMessage({ error: error ? error.message : null, stdout: stdout.toString(), stderr: stderr.toString(), reads, named: named() });
});
`;

export interface BuildResult {
  path: string;
  bytes: number;
  envoyReady: boolean;
  abiVersion: string | null;
  problems: string[];
  ms: number;
  /** Nothing changed since the last build of this target: asc did not run. */
  upToDate: boolean;
}

/** The outFile the project's asconfig.json sets for the target, if any. */
function configuredOutFile(dir: string, target: string): string | null {
  const config = JSON.parse(readFileSync(resolve(dir, "asconfig.json"), "utf8")) as {
    options?: { outFile?: string };
    targets?: Record<string, { outFile?: string }>;
  };
  return config.targets?.[target]?.outFile ?? config.options?.outFile ?? null;
}

/** Where the build of `target` writes its module. */
export function outFileOf(dir: string, target: string): string {
  return resolve(dir, configuredOutFile(dir, target) ?? "build/plugin.wasm");
}

function runAsc(args: string[], progress: (elapsedMs: number) => void): Promise<AscDone> {
  return new Promise((resolveDone, reject) => {
    const started = Date.now();
    const ascUrl = import.meta.resolve("assemblyscript/asc");
    const worker = new Worker(ASC_WORKER, { eval: true, workerData: { ascUrl, binaryenUrl: binaryenUrl(ascUrl), args } });
    const timer = setInterval(() => progress(Date.now() - started), 100);
    let result: AscDone | null = null;
    worker.on("message", (m: AscDone) => (result = m));
    worker.on("error", (e) => {
      clearInterval(timer);
      reject(e);
    });
    worker.on("exit", (code) => {
      clearInterval(timer);
      if (result) resolveDone(result);
      else reject(new Error(`the AssemblyScript compiler stopped (exit code ${code})`));
    });
  });
}

/**
 * Compiles and checks; throws with a one-line reason when the build fails or is not Envoy-ready. `quiet` prints
 * nothing but asc's errors; `force` compiles even when nothing changed.
 */
export async function build(
  dirArg: string,
  options: { target?: string; quiet?: boolean; force?: boolean; parallel?: boolean; outFile?: string } = {},
): Promise<BuildResult> {
  const dir = resolve(dirArg);
  const target = options.target ?? "release";
  if (!existsSync(resolve(dir, "asconfig.json"))) {
    throw new Error(`no asconfig.json in ${dir}: run it in a filter project (npx proxy-wasm-as init DIR makes one)`);
  }
  // `outFile` puts another target where the release module goes (test --inspect: the debug build).
  const out = options.outFile ?? configuredOutFile(dir, target);
  const args = ["--baseDir", dir, "--config", "asconfig.json", "--target", target, ...SOURCE_MAP_ARGS];
  if (out === null || options.outFile !== undefined) args.push("--outFile", out ?? "build/plugin.wasm");
  const outFile = resolve(dir, out ?? "build/plugin.wasm");
  const err = process.stderr;
  // One spinner line cannot show several builds at once.
  const tty = err.isTTY === true && !options.quiet && !options.parallel;
  const paint = painter(colourEnabled(process.stdout));
  const started = Date.now();
  const key = cacheKey(dir, args);
  const upToDate = !options.force && isUpToDate(dir, target, key, outFile);
  if (!upToDate) {
    const what = `compiling ${relative(process.cwd(), dir) || "."} (${target}) with asc`;
    if (!options.quiet && !tty) err.write(`${what}...\n`);
    const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
    let frame = 0;
    const done = await runAsc(args, (ms) => {
      if (tty) err.write(`\r${frames[frame++ % frames.length]} ${what} ${(ms / 1000).toFixed(1)}s`);
    });
    if (tty) err.write("\r\x1b[K");
    if (done.stdout.trim() && !options.quiet) process.stdout.write(done.stdout);
    if (done.stderr.trim()) err.write(done.stderr);
    if (done.error) throw new Error(`asc failed: ${done.error}`);
    if (!existsSync(outFile)) throw new Error(`asc wrote no ${outFile}`);
    finishSourceMap(dir, outFile, done.named, done.reads);
    recordBuild(dir, target, key, outFile, done.reads);
  }
  const bytes = readFileSync(outFile);
  const check = checkModule(bytes);
  const result: BuildResult = {
    path: relative(process.cwd(), outFile) || outFile,
    bytes: statSync(outFile).size,
    envoyReady: check.ok,
    abiVersion: check.abiVersion,
    problems: check.problems,
    ms: Date.now() - started,
    upToDate,
  };
  if (!options.quiet) {
    const verdict = check.ok
      ? paint("green", `Envoy-ready (Proxy-Wasm ABI ${check.abiVersion})`)
      : paint("red", "NOT Envoy-ready");
    const took = upToDate ? "up to date" : `${(result.ms / 1000).toFixed(1)}s`;
    process.stdout.write(`${result.path}  ${result.bytes.toLocaleString("en-US")} bytes  ${verdict}  ${paint("dim", took)}\n`);
    for (const p of check.problems) process.stdout.write(`  ${paint("red", "✗")} ${p}\n`);
    for (const w of check.warnings) process.stdout.write(`  ${paint("yellow", "!")} ${w}\n`);
  }
  if (!check.ok) throw new Error(`${result.path} is not Envoy-ready: ${check.problems[0]}`);
  return result;
}

/**
 * Builds several projects, as many at once as there are cores (each asc runs in its own worker); the results in
 * the order given. The first failure is thrown once every build has finished.
 */
export async function buildAll(dirs: string[], options: { target?: string; quiet?: boolean; force?: boolean }): Promise<BuildResult[]> {
  const results: BuildResult[] = new Array(dirs.length);
  const failures: { index: number; error: Error }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < dirs.length; i = next++) {
      try {
        results[i] = await build(dirs[i], { ...options, parallel: dirs.length > 1 });
      } catch (e) {
        failures.push({ index: i, error: e as Error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(dirs.length, availableParallelism()) }, worker));
  if (failures.length) {
    failures.sort((a, b) => a.index - b.index);
    const { index, error } = failures[0];
    throw new Error(dirs.length > 1 ? `${dirs[index]}: ${error.message}` : error.message);
  }
  return results;
}

export function register(program: Command): void {
  program
    .command("build")
    .description("compile filter projects with the preset and check that Envoy can load each module (nothing to do when no input changed)")
    .argument("[dirs...]", "filter projects (with asconfig.json)", ["."])
    .option("--target <target>", "asconfig target", "release")
    .option("--watch", "build, then rebuild whenever a source, the asconfig or the SDK changes (until Ctrl-C)")
    .option("--force", "compile even when nothing changed")
    .option("--json", "print {path, bytes, envoyReady, abiVersion, problems, ms, upToDate} (an array for several projects)")
    .action(
      reportErrors("build", async (dirs: string[], o: { target: string; watch?: boolean; force?: boolean; json?: boolean }) => {
        if (o.watch) {
          await watchBuilds(dirs, { target: o.target, json: o.json === true });
          return;
        }
        const results = await buildAll(dirs, { target: o.target, quiet: o.json === true, force: o.force === true });
        if (o.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results)}\n`);
      }),
    );
}

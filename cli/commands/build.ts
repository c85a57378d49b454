// `proxy-wasm-as build [DIR] [--target release|debug] [--watch] [--json]`: compiles the filter
// project in DIR with its asconfig.json (which extends the package's preset) through asc's API, then
// checks the module as Envoy would load it: only Envoy's imports, an ABI marker, an allocator, no
// start section. A module that is not Envoy-ready fails the build with the reason.
// asc runs in a worker thread (compiler.ts). A build whose inputs did not change (build-cache.ts)
// compiles nothing; --watch (build-watch.ts) rebuilds when one of them changes.

import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { checkModule } from "../../host/module.js";
import { colourEnabled, painter } from "../../devproxy/log.js";
import { reportErrors } from "../report-errors.js";
import { cacheKey, isUpToDate, recordBuild } from "./build-cache.js";
import { compileOnce, type Compiler } from "./compiler.js";
import { finishSourceMap, SOURCE_MAP_ARGS } from "./build-source-map.js";

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

/** What a quick build adds to the target's options: binaryen's optimiser off (a rebuild in a fraction of the time). */
export const QUICK_ARGS = ["--optimizeLevel", "0", "--shrinkLevel", "0"];

export interface BuildOptions {
  target?: string;
  /** Print nothing but asc's errors. */
  quiet?: boolean;
  /** Compile even when nothing changed. */
  force?: boolean;
  parallel?: boolean;
  /** Where the module goes instead of the target's outFile (test --inspect: the debug build where the release goes). */
  outFile?: string;
  /** Compile without the optimiser (the watch loop); a module the full build left up to date is kept. */
  quick?: boolean;
  /** A compiler kept loaded between builds (the watch loop); by default each build starts its own. */
  compiler?: Compiler;
}

/** Compiles and checks; throws with a one-line reason when the build fails or is not Envoy-ready. */
export async function build(dirArg: string, options: BuildOptions = {}): Promise<BuildResult> {
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
  const fullKey = cacheKey(dir, args);
  if (options.quick) args.push(...QUICK_ARGS);
  const key = options.quick ? cacheKey(dir, args) : fullKey;
  const upToDate =
    !options.force && (isUpToDate(dir, target, key, outFile) || (options.quick === true && isUpToDate(dir, target, fullKey, outFile)));
  if (!upToDate) {
    const what = `compiling ${relative(process.cwd(), dir) || "."} (${target}${options.quick ? ", not optimised" : ""}) with asc`;
    if (!options.quiet && !tty) err.write(`${what}...\n`);
    const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
    let frame = 0;
    const progress = (ms: number) => {
      if (tty) err.write(`\r${frames[frame++ % frames.length]} ${what} ${(ms / 1000).toFixed(1)}s`);
    };
    const done = await (options.compiler ? options.compiler.compile(args, progress) : compileOnce(args, progress));
    if (tty) err.write("\r\x1b[K");
    if (done.stdout.trim() && !options.quiet) process.stdout.write(done.stdout);
    // asc notes when binaryen's last converge round grew the module: nothing for the user to act on.
    const stderr = done.stderr.replace(/^Last converge was suboptimal\.\r?\n/m, "");
    if (stderr.trim()) err.write(stderr);
    if (done.error) throw new Error(`asc failed: ${done.error}`);
    if (!existsSync(outFile)) throw new Error(`asc wrote no ${outFile}`);
    finishSourceMap(dir, outFile, done.named, done.reads);
    recordBuild(dir, target, key, outFile, done.reads);
  } else options.compiler?.warmUp(args);
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
    const took = upToDate ? "up to date" : `${(result.ms / 1000).toFixed(1)}s${options.quick ? " (not optimised: `build` makes the release module)" : ""}`;
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
    .option("--watch", "build, then rebuild whenever a source, the asconfig or the SDK changes (until Ctrl-C); rebuilds skip the optimiser")
    .option("--optimize", "with --watch: optimise every rebuild as the target says (slower)")
    .option("--force", "compile even when nothing changed")
    .option("--json", "print {path, bytes, envoyReady, abiVersion, problems, ms, upToDate} (an array for several projects)")
    .action(
      reportErrors("build", async (dirs: string[], o: { target: string; watch?: boolean; optimize?: boolean; force?: boolean; json?: boolean }) => {
        if (o.watch) {
          const { watchBuilds } = await import("./build-watch.js");
          await watchBuilds(dirs, { target: o.target, json: o.json === true, optimize: o.optimize === true });
          return;
        }
        const results = await buildAll(dirs, { target: o.target, quiet: o.json === true, force: o.force === true });
        if (o.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results)}\n`);
      }),
    );
}

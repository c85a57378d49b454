// `proxy-wasm-as build [DIR] [--target release|debug] [--json]`: compiles the filter project in
// DIR with its asconfig.json (which extends the package's preset) through asc's API, then checks
// the module as Envoy would load it: only Envoy's imports, an ABI marker, an allocator, no start
// section. A module that is not Envoy-ready fails the build with the reason.
// asc runs in a worker thread so the main thread can show progress.

import { existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { Command } from "commander";
import { checkModule } from "../../host/index.js";
import { colourEnabled, painter } from "../../devproxy/log.js";
import { reportErrors } from "../report-errors.js";

interface AscDone {
  error: string | null;
  stdout: string;
  stderr: string;
}

/**
 * The worker: a few lines that import only the compiler (by resolved URL), so it does not load
 * this CLI's modules again.
 */
const ASC_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.ascUrl).then(async ({ default: asc }) => {
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  const { error } = await asc.main(workerData.args, { stdout, stderr });
  parentPort.postMessage({ error: error ? error.message : null, stdout: stdout.toString(), stderr: stderr.toString() });
});
`;

export interface BuildResult {
  path: string;
  bytes: number;
  envoyReady: boolean;
  abiVersion: string | null;
  problems: string[];
  ms: number;
}

/** The outFile the project's asconfig.json sets for the target, if any. */
function configuredOutFile(dir: string, target: string): string | null {
  const config = JSON.parse(readFileSync(resolve(dir, "asconfig.json"), "utf8")) as {
    options?: { outFile?: string };
    targets?: Record<string, { outFile?: string }>;
  };
  return config.targets?.[target]?.outFile ?? config.options?.outFile ?? null;
}

function runAsc(args: string[], progress: (elapsedMs: number) => void): Promise<AscDone> {
  return new Promise((resolveDone, reject) => {
    const started = Date.now();
    const worker = new Worker(ASC_WORKER, { eval: true, workerData: { ascUrl: import.meta.resolve("assemblyscript/asc"), args } });
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

/** Compiles and checks; throws with a one-line reason when the build fails or is not Envoy-ready. `quiet` prints nothing but asc's errors. */
export async function build(dirArg: string, options: { target?: string; quiet?: boolean } = {}): Promise<BuildResult> {
  const dir = resolve(dirArg);
  const target = options.target ?? "release";
  if (!existsSync(resolve(dir, "asconfig.json"))) {
    throw new Error(`no asconfig.json in ${dir}: run it in a filter project (npx proxy-wasm-as init DIR makes one)`);
  }
  const out = configuredOutFile(dir, target);
  const args = ["--baseDir", dir, "--config", "asconfig.json", "--target", target];
  if (out === null) args.push("--outFile", "build/plugin.wasm");
  const outFile = resolve(dir, out ?? "build/plugin.wasm");
  const err = process.stderr;
  const tty = err.isTTY === true && !options.quiet;
  const paint = painter(colourEnabled(process.stdout));
  const what = `compiling ${relative(process.cwd(), dir) || "."} (${target}) with asc`;
  if (!options.quiet && !tty) err.write(`${what}...\n`);
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  let frame = 0;
  const started = Date.now();
  const done = await runAsc(args, (ms) => {
    if (tty) err.write(`\r${frames[frame++ % frames.length]} ${what} ${(ms / 1000).toFixed(1)}s`);
  });
  if (tty) err.write("\r\x1b[K");
  if (done.stdout.trim() && !options.quiet) process.stdout.write(done.stdout);
  if (done.stderr.trim()) err.write(done.stderr);
  if (done.error) throw new Error(`asc failed: ${done.error}`);
  if (!existsSync(outFile)) throw new Error(`asc wrote no ${outFile}`);
  const bytes = readFileSync(outFile);
  const check = checkModule(bytes);
  const result: BuildResult = {
    path: relative(process.cwd(), outFile) || outFile,
    bytes: statSync(outFile).size,
    envoyReady: check.ok,
    abiVersion: check.abiVersion,
    problems: check.problems,
    ms: Date.now() - started,
  };
  if (!options.quiet) {
    const verdict = check.ok
      ? paint("green", `Envoy-ready (Proxy-Wasm ABI ${check.abiVersion})`)
      : paint("red", "NOT Envoy-ready");
    process.stdout.write(`${result.path}  ${result.bytes.toLocaleString("en-US")} bytes  ${verdict}  ${paint("dim", `${(result.ms / 1000).toFixed(1)}s`)}\n`);
    for (const p of check.problems) process.stdout.write(`  ${paint("red", "✗")} ${p}\n`);
    for (const w of check.warnings) process.stdout.write(`  ${paint("yellow", "!")} ${w}\n`);
  }
  if (!check.ok) throw new Error(`${result.path} is not Envoy-ready: ${check.problems[0]}`);
  return result;
}

export function register(program: Command): void {
  program
    .command("build")
    .description("compile filter projects with the preset and check that Envoy can load each module")
    .argument("[dirs...]", "filter projects (with asconfig.json)", ["."])
    .option("--target <target>", "asconfig target", "release")
    .option("--json", "print {path, bytes, envoyReady, abiVersion, problems, ms} (an array for several projects)")
    .action(
      reportErrors("build", async (dirs: string[], o: { target: string; json?: boolean }) => {
        const results: BuildResult[] = [];
        for (const dir of dirs) results.push(await build(dir, { target: o.target, quiet: o.json === true }));
        if (o.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results)}\n`);
      }),
    );
}

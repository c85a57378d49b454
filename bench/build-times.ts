// The edit loop, measured on add-header (a copy in a temp folder): a cold release build, a build with
// nothing changed (the whole CLI process, as `npm run build` runs it, next to a bare `node` start),
// debug against release, `build --watch` from a saved source to the rebuilt module (quick rebuilds and
// --optimize), and edit-to-reloaded: a source saved while `run --watch` serves it, until the dev proxy
// serves the new behaviour.

import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(ROOT, "dist/cli/main.js");
const TARGET_NO_CHANGE_S = 0.3;
const TARGET_EDIT_TO_RELOADED_S = 3;

export interface BuildTimes {
  /** `node -e 0`: the part of every CLI run that is Node's own start. */
  nodeStartS: number;
  /** CPU seconds (Linux; null elsewhere) of `node -e 0` and of a no-change build: what a core costs, whatever the load. */
  nodeStartCpuS: number | null;
  noChangeCpuS: number | null;
  coldReleaseS: number;
  noChangeS: number;
  noChangeRuns: number[];
  releaseS: number;
  debugS: number;
  releaseBytes: number;
  debugBytes: number;
  /** `build --watch`: seconds from a saved source to the rebuilt module, quick (default) and --optimize. */
  watchQuickS: number[];
  watchOptimizedS: number[];
  editToReloadedS: number[];
  /** The 1-minute load average when the section ended: on a shared machine, the reason a time is long. */
  loadAverage: number;
}

function project(): { dir: string; setValue(value: string): void } {
  const dir = mkdtempSync(join(tmpdir(), "pwas-bench-build-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "proxy-wasm-as"), "dir");
  mkdirSync(join(dir, "assembly"));
  writeFileSync(join(dir, "asconfig.json"), readFileSync(join(ROOT, "templates/add-header/asconfig.json")));
  const source = readFileSync(join(ROOT, "examples/add-header/assembly/index.ts"), "utf8");
  const setValue = (value: string) => writeFileSync(join(dir, "assembly/index.ts"), source.replaceAll('"world"', JSON.stringify(value)));
  setValue("world");
  return { dir, setValue };
}

/** Wall time of one `proxy-wasm-as build` process, and its --json result. */
/**
 * CPU seconds (user + system) of the children this process has waited for, from /proc/self/stat (Linux; null
 * elsewhere): unlike wall time, barely moved by other processes queueing for the cores.
 */
function childrenCpuS(): number | null {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").replace(/^.*\) /s, "").split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}

/** Wall and CPU time of one child process. */
function timed(args: string[]): { s: number; cpuS: number | null; run: SpawnSyncReturns<string> } {
  const cpuBefore = childrenCpuS();
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { encoding: "utf8" });
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = childrenCpuS();
  return { s, cpuS: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore, run };
}

/** Wall time of one `proxy-wasm-as build` process, its CPU time, and its --json result. */
function timedBuild(dir: string, ...args: string[]): { s: number; cpuS: number | null; bytes: number; upToDate: boolean } {
  const { s, cpuS, run } = timed([CLI, "build", dir, "--json", ...args]);
  if (run.status !== 0) throw new Error(`build ${args.join(" ")} failed: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { bytes: number; upToDate: boolean };
  return { s, cpuS, bytes: result.bytes, upToDate: result.upToDate };
}

const medianOrNull = (xs: (number | null)[]) => (xs.some((x) => x === null) ? null : median(xs as number[]));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A child CLI process printing one JSON event per line; `next` waits for the next event that matches. */
function events(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args]);
  let buffered = "";
  const waiters: { match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  child.stdout.on("data", (d) => {
    buffered += d;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      let event: Record<string, unknown> | null = null;
      try {
        event = JSON.parse(buffered.slice(0, nl));
      } catch {
        // not an event
      }
      buffered = buffered.slice(nl + 1);
      for (const w of [...waiters]) if (event && w.match(event)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(event));
    }
  });
  const next = (match: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolveEvent, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event within 120 s from ${args.join(" ")}`)), 120_000);
      waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolveEvent(e)) });
    });
  return { next, stop: () => child.kill("SIGTERM") };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A user's first save comes seconds after the watch started; by then the watch has warmed its compiler up. */
const FIRST_EDIT_AFTER_MS = 3000;

/** Saves a new header value while `build --watch` runs; seconds until each rebuilt module was checked. */
async function editToBuilt(dir: string, setValue: (v: string) => void, edits: number, ...flags: string[]): Promise<number[]> {
  const watch = events(["build", dir, "--watch", "--json", ...flags]);
  try {
    await watch.next((e) => e.event === "build");
    await sleep(FIRST_EDIT_AFTER_MS);
    const times: number[] = [];
    for (let i = 0; i < edits; i++) {
      const built = watch.next((e) => e.event === "build" || e.event === "build-failed");
      const started = process.hrtime.bigint();
      setValue(`watch-${flags.join("")}-${i}`);
      const e = await built;
      if (e.event !== "build" || e.upToDate) throw new Error(`build --watch ${flags.join(" ")}: ${JSON.stringify(e)}`);
      times.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    return times;
  } finally {
    watch.stop();
  }
}

/** Saves a new header value while `run --watch` serves the project; seconds until the proxy reloaded and serves it. */
async function editToReloaded(dir: string, setValue: (v: string) => void, edits: number): Promise<number[]> {
  const run = events(["run", join(dir, "build/plugin.wasm"), "--watch", "--json", "--port", "0", "--admin-port", "0"]);
  try {
    const listening = await run.next((e) => e.event === "listening");
    await sleep(FIRST_EDIT_AFTER_MS);
    const times: number[] = [];
    for (let i = 0; i < edits; i++) {
      const value = `edit-${i}`;
      const reloaded = run.next((e) => e.event === "reload");
      const started = process.hrtime.bigint();
      setValue(value);
      await reloaded;
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      const served = (await fetch(String(listening.url))).headers.get("hello");
      if (served !== value) throw new Error(`reloaded, but the proxy serves hello: ${served}, not ${value}`);
      times.push(s);
    }
    return times;
  } finally {
    run.stop();
  }
}

export async function measureBuildTimes(progress: (what: string) => void): Promise<BuildTimes> {
  const { dir, setValue } = project();
  try {
    const nodeStarts = Array.from({ length: 5 }, () => timed(["-e", "0"]));
    const nodeStartS = median(nodeStarts.map((r) => r.s));
    const nodeStartCpuS = medianOrNull(nodeStarts.map((r) => r.cpuS));
    progress("build times: cold release build of add-header");
    const cold = timedBuild(dir);
    progress("build times: no-change builds");
    const noChange = Array.from({ length: 5 }, () => timedBuild(dir));
    if (noChange.some((r) => !r.upToDate)) throw new Error("a build with nothing changed compiled");
    const noChangeRuns = noChange.map((r) => r.s);
    progress("build times: release and debug builds (--force)");
    const release = timedBuild(dir, "--force");
    const debug = timedBuild(dir, "--force", "--target", "debug");
    progress("build times: edit to rebuilt (build --watch, then build --watch --optimize)");
    const watchQuickS = await editToBuilt(dir, setValue, 3);
    const watchOptimizedS = await editToBuilt(dir, setValue, 3, "--optimize");
    progress("build times: edit to reloaded in the dev proxy (run --watch)");
    timedBuild(dir);
    const editToReloadedS = await editToReloaded(dir, setValue, 3);
    return {
      nodeStartS,
      nodeStartCpuS,
      noChangeCpuS: medianOrNull(noChange.map((r) => r.cpuS)),
      watchQuickS,
      watchOptimizedS,
      coldReleaseS: cold.s,
      noChangeS: median(noChangeRuns),
      noChangeRuns,
      releaseS: release.s,
      debugS: debug.s,
      releaseBytes: release.bytes,
      debugBytes: debug.bytes,
      editToReloadedS,
      loadAverage: loadavg()[0],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatBuildTimes(t: BuildTimes): string {
  const s = (x: number) => `${x.toFixed(2)} s`;
  const verdict = (x: number, target: number) => (x < target ? `met (< ${target} s)` : `MISSED (target < ${target} s)`);
  const edit = median(t.editToReloadedS);
  const cpu = (x: number | null) => (x === null ? "" : `CPU ${x.toFixed(2)} s  `);
  const list = (xs: number[]) => `median of ${xs.map((x) => x.toFixed(2)).join(", ")}`;
  return [
    `Build times (add-header, wall time of the whole CLI process; load average ${t.loadAverage.toFixed(1)} on ${availableParallelism()} cores)`,
    `  node -e 0                 ${s(t.nodeStartS)}  ${cpu(t.nodeStartCpuS)}(Node's own start, part of every CLI run)`,
    `  cold release build        ${s(t.coldReleaseS)}`,
    `  no-change build           ${s(t.noChangeS)}  ${cpu(t.noChangeCpuS)}${list(t.noChangeRuns)}  ${verdict(t.noChangeS, TARGET_NO_CHANGE_S)}`,
    `  release build (--force)   ${s(t.releaseS)}  ${t.releaseBytes.toLocaleString("en-US")} bytes`,
    `  debug build (--force)     ${s(t.debugS)}  ${t.debugBytes.toLocaleString("en-US")} bytes`,
    `  build --watch, edit to rebuilt             ${s(median(t.watchQuickS))}  ${list(t.watchQuickS)} (compiler kept loaded, not optimised)`,
    `  build --watch --optimize, edit to rebuilt  ${s(median(t.watchOptimizedS))}  ${list(t.watchOptimizedS)} (compiler kept loaded, release optimiser)`,
    `  edit to reloaded          ${s(edit)}  ${list(t.editToReloadedS)} (run --watch: quick rebuild + reload; first edit ${FIRST_EDIT_AFTER_MS / 1000} s after start)  ${verdict(edit, TARGET_EDIT_TO_RELOADED_S)}`,
  ].join("\n");
}

// The dev proxy's throughput, side by side with a plain Node reverse proxy (node:http, a dozen lines,
// servers.ts) in front of the same upstream: autocannon with the same connections against each.
// Targets (issue 18): with one worker >= 0.8x the plain proxy's requests/s, with two workers above it.
//
// Every server is its own process (`run` as users start it, its stdout a pipe, so request lines are
// sampled), all started at once and each warmed up before anything is measured: a process's first
// seconds measure V8 compiling it (each worker thread is an isolate that compiles its own copy, so two
// workers take twice as long to reach their steady speed). Then rounds: in each, every server is
// measured once, in an order that rotates, and its requests/s is divided by the plain proxy's of the
// same round; a row's ratio is the median over the rounds. This machine's speed drifts by tens of per
// cent within a minute (other users' processes, its host's neighbours); a ratio taken within one round
// cancels the drift, a ratio of two measurements a minute apart does not.
// `node dist/bench/devproxy/index.js [--seconds 2] [--rounds 5] [--warmup 4] [--connections 32] [--json]`.

import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { median, rotate } from "../stats.js";
import { coresBusy, cpuSeconds, machineJiffies } from "./cpu.js";
import { PLAIN_PROXY, PLAIN_UNDICI_PROXY, serve, stopProcess, UPSTREAM, type Server } from "./servers.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CLI = join(ROOT, "dist/cli/main.js");
const wasm = (name: string) => join(ROOT, "examples", name, "build", "plugin.wasm");

export interface DevProxyBenchOptions {
  /** Measured seconds per server per round. */
  seconds: number;
  rounds: number;
  /** Seconds of load each server gets before the rounds. */
  warmup: number;
  connections: number;
}

export const DEFAULT_OPTIONS: DevProxyBenchOptions = { seconds: 2, rounds: 5, warmup: 4, connections: 32 };

/** Load before each measured slice, not measured: the new connections are set up and the caches warm again. */
const RESUME_SECONDS = 0.5;

export interface Measured {
  name: string;
  /** All measured requests over all measured seconds. */
  requestsPerSecond: number;
  /** The median over the rounds of each round's p50 and p99. */
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** CPU time the proxy's process used per request (all its threads), from /proc; null elsewhere. */
  cpuUsPerRequest: number | null;
  /** The same for the upstream's process and for this one (autocannon, the load generator). */
  upstreamCpuUsPerRequest: number | null;
  loadCpuUsPerRequest: number;
  /** How many of the machine's cores were busy meanwhile (every process, other users' too); null elsewhere. */
  coresBusy: number | null;
  /** Requests/s in each round, in round order. */
  perRound: number[];
  /** Requests/s during the warm-up: below the rounds' while V8 still compiles the server. */
  warmupRequestsPerSecond: number;
}

export interface DevProxyBenchResult {
  options: DevProxyBenchOptions;
  rows: (Measured & { ratio: number | null; ratios: number[] })[];
  verdicts: { what: string; ratio: number; target: string; met: boolean }[];
}

/** The row every other is divided by. */
const REFERENCE = "plain node:http proxy";

interface Row {
  name: string;
  args: string[];
  headers: Record<string, string>;
}

/** One slice of one server: its counts, to be summed over the rounds. */
interface Slice {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpu: number | null;
  upstreamCpu: number | null;
  loadCpu: number;
  busy: number | null;
}

function plan(upstream: string): Row[] {
  const run = (filter: string, workers: number) => [CLI, "run", wasm(filter), "--upstream", upstream, "--port", "0", "--no-admin", "--concurrency", String(workers)];
  const prime = { token: "7919" }; // a prime: the authorizer lets it through to the upstream
  return [
    { name: REFERENCE, args: ["-e", PLAIN_PROXY, upstream], headers: {} },
    { name: "plain proxy, undici client (not a target)", args: ["-e", PLAIN_UNDICI_PROXY, upstream, createRequire(import.meta.url).resolve("undici")], headers: {} },
    { name: "run add-header, 1 worker", args: run("add-header", 1), headers: {} },
    { name: "run add-header, 2 workers", args: run("add-header", 2), headers: {} },
    { name: "run prime-authorizer, 1 worker", args: run("prime-authorizer", 1), headers: prime },
    { name: "run prime-authorizer, 2 workers", args: run("prime-authorizer", 2), headers: prime },
    // Not targets: with one worker the main thread keeps the deadline, so this should match the row
    // above; `run` as users type it (no --concurrency) serves on one worker thread too.
    { name: "run add-header, 1 worker, --callback-deadline 0", args: [...run("add-header", 1), "--callback-deadline", "0"], headers: {} },
    { name: "run add-header, no --concurrency (default)", args: run("add-header", 1).slice(0, -2), headers: {} },
  ];
}

const load = (url: string, headers: Record<string, string>, o: DevProxyBenchOptions, seconds: number) =>
  autocannon({ url, connections: o.connections, duration: seconds, headers });

async function measureSlice(server: Server, row: Row, o: DevProxyBenchOptions, upstreamPid: number | undefined): Promise<Slice> {
  await load(server.url, row.headers, o, RESUME_SECONDS);
  const before = [cpuSeconds(server.child.pid), cpuSeconds(upstreamPid)];
  const ownBefore = process.cpuUsage();
  const machineBefore = machineJiffies();
  const r = await load(server.url, row.headers, o, o.seconds);
  const busy = coresBusy(machineBefore, machineJiffies());
  const own = process.cpuUsage(ownBefore);
  const after = [cpuSeconds(server.child.pid), cpuSeconds(upstreamPid)];
  const used = (i: number) => (before[i] === null || after[i] === null ? null : after[i]! - before[i]!);
  return {
    requests: r.requests.total,
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    cpu: used(0),
    upstreamCpu: used(1),
    loadCpu: (own.user + own.system) / 1e6,
    busy,
  };
}

function summarize(name: string, slices: Slice[], warmupRequestsPerSecond: number): Measured {
  const sum = (f: (s: Slice) => number) => slices.reduce((n, s) => n + f(s), 0);
  const requests = sum((s) => s.requests);
  const perRequest = (f: (s: Slice) => number | null) =>
    requests === 0 || slices.some((s) => f(s) === null) ? null : (sum((s) => f(s)!) * 1e6) / requests;
  return {
    name,
    requestsPerSecond: requests / sum((s) => s.seconds),
    p50Ms: median(slices.map((s) => s.p50)),
    p99Ms: median(slices.map((s) => s.p99)),
    non2xx: sum((s) => s.non2xx),
    errors: sum((s) => s.errors),
    cpuUsPerRequest: perRequest((s) => s.cpu),
    upstreamCpuUsPerRequest: perRequest((s) => s.upstreamCpu),
    loadCpuUsPerRequest: perRequest((s) => s.loadCpu) ?? 0,
    coresBusy: slices.some((s) => s.busy === null) ? null : sum((s) => s.busy! * s.seconds) / sum((s) => s.seconds),
    perRound: slices.map((s) => s.requests / s.seconds),
    warmupRequestsPerSecond,
  };
}

export async function devProxyBench(o: DevProxyBenchOptions, progress: (s: string) => void = () => undefined): Promise<DevProxyBenchResult> {
  for (const name of ["add-header", "prime-authorizer"]) {
    if (!existsSync(wasm(name))) throw new Error(`${wasm(name)} missing: build it (node dist/cli/main.js build examples/${name})`);
  }
  const upstream = await serve(["-e", UPSTREAM]);
  const servers: Server[] = [];
  try {
    const rows = plan(upstream.url);
    for (const row of rows) servers.push(await serve(row.args));
    const warmups: number[] = [];
    for (const [i, row] of rows.entries()) {
      progress(`dev proxy: warming up ${row.name} (${o.warmup} s)`);
      const r = await load(servers[i].url, row.headers, o, o.warmup);
      warmups.push(r.requests.total / r.duration);
    }
    const slices: Slice[][] = rows.map(() => []);
    for (let round = 0; round < o.rounds; round++) {
      progress(`dev proxy: round ${round + 1} of ${o.rounds} (${rows.length} servers, ${o.connections} connections, ${o.seconds} s each)`);
      for (const i of rotate([...rows.keys()], round)) slices[i].push(await measureSlice(servers[i], rows[i], o, upstream.child.pid));
    }
    const reference = rows.findIndex((r) => r.name === REFERENCE);
    const plainPerRound = slices[reference].map((s) => s.requests / s.seconds);
    const measured = rows.map((row, i) => {
      const m = summarize(row.name, slices[i], warmups[i]);
      const ratios = i === reference ? [] : m.perRound.map((rps, round) => rps / plainPerRound[round]);
      return { ...m, ratios, ratio: i === reference ? null : median(ratios) };
    });
    const verdicts = measured
      .filter((r) => r.ratio !== null && /workers?$/.test(r.name))
      .map((r) => {
        const one = r.name.endsWith("1 worker");
        return { what: r.name, ratio: r.ratio!, target: one ? ">= 0.8x" : "> 1.0x", met: one ? r.ratio! >= 0.8 : r.ratio! > 1 };
      });
    return { options: o, rows: measured, verdicts };
  } finally {
    await Promise.all([...servers, upstream].map((s) => stopProcess(s.child)));
  }
}

export function formatDevProxyBench(r: DevProxyBenchResult): string {
  const o = r.options;
  const lines = [
    `dev proxy throughput (autocannon, ${o.connections} connections; every server warmed up ${o.warmup} s, then ${o.rounds} rounds of ${o.seconds} s each,`,
    `  in rotating order; ratio: the median over the rounds of requests/s over the plain node:http proxy's in the same round;`,
    `  cpu: µs per request of the proxy's process, the upstream's and autocannon's; cores: how many of the machine's ${cpus().length} were busy, every process counted;`,
    `  warm-up: requests/s during the warm-up, while V8 still compiles the server):`,
  ];
  const us = (n: number | null) => (n === null ? "    ?" : n.toFixed(0).padStart(5));
  const pad = Math.max(...r.rows.map((x) => x.name.length));
  for (const x of r.rows) {
    const flags = x.non2xx || x.errors ? `  (${x.non2xx} non-2xx, ${x.errors} errors)` : "";
    const rounds = x.ratio === null ? "" : `  ${x.ratio.toFixed(2)}x plain (rounds ${x.ratios.map((v) => v.toFixed(2)).join(" ")})`;
    lines.push(
      `  ${x.name.padEnd(pad)}  ${x.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${String(x.p50Ms).padStart(3)} ms  p99 ${String(x.p99Ms).padStart(3)} ms` +
        `  cpu ${us(x.cpuUsPerRequest)} / upstream ${us(x.upstreamCpuUsPerRequest)} / autocannon ${us(x.loadCpuUsPerRequest)}` +
        `  cores ${x.coresBusy === null ? "?" : x.coresBusy.toFixed(2)}` +
        `  warm-up ${x.warmupRequestsPerSecond.toFixed(0).padStart(5)} req/s` +
        rounds +
        flags,
    );
  }
  lines.push("verdicts:");
  for (const v of r.verdicts) lines.push(`  ${v.what}: ${v.ratio.toFixed(2)}x the plain proxy (target ${v.target}): ${v.met ? "met" : "NOT met"}`);
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = { ...DEFAULT_OPTIONS };
  let json = false;
  const argv = process.argv.slice(2);
  const positive = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!(n > 0)) throw new Error(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--seconds") o.seconds = positive(a, argv[++i]);
    else if (a === "--rounds") o.rounds = Math.ceil(positive(a, argv[++i]));
    else if (a === "--warmup") o.warmup = positive(a, argv[++i]);
    else if (a === "--connections") o.connections = Math.ceil(positive(a, argv[++i]));
    else if (a === "--json") json = true;
    else throw new Error(`unknown option ${a}: --seconds N, --rounds N, --warmup N, --connections N, --json`);
  }
  const result = await devProxyBench(o, (s) => process.stderr.write(`${s}\n`));
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${formatDevProxyBench(result)}\n`);
}

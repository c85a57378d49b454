// The dev proxy's throughput, side by side with a plain Node reverse proxy (node:http, a dozen
// lines) in front of the same upstream: autocannon with the same connections and duration
// against each, one after the other in one run, the plain proxy measured first and last. Every
// server is its own process (`run` as users start it, its stdout a pipe, so request lines are
// sampled). Targets (issue 18): with one worker >= 0.8x the plain proxy's requests/s, with two
// workers above it. A row not held to a target: the same plain proxy with undici's client to the
// upstream (what `run` uses), to show how much of the difference is the client.
// `node dist/bench/devproxy.js [--seconds 5] [--connections 32] [--json]`.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(ROOT, "dist/cli/main.js");
const wasm = (name: string) => join(ROOT, "examples", name, "build", "plugin.wasm");

export interface DevProxyBenchOptions {
  seconds: number;
  connections: number;
}

export interface Measured {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** CPU time the proxy's process used per request (all its threads), from /proc; null elsewhere. */
  cpuUsPerRequest: number | null;
  /** The same for the upstream's process and for this one (autocannon, the load generator). */
  upstreamCpuUsPerRequest: number | null;
  loadCpuUsPerRequest: number;
  /** How many of the machine's cores were busy meanwhile (every process, other users' too), from /proc/stat; null elsewhere. */
  coresBusy: number | null;
}

export interface DevProxyBenchResult {
  connections: number;
  seconds: number;
  rows: (Measured & { ratio: number | null })[];
  verdicts: { what: string; ratio: number; target: string; met: boolean }[];
}

const UPSTREAM = `
const http = require("node:http");
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end("hello from upstream"));
}).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port); });`;

/** The plain reverse proxy the dev proxy is held against. */
const PLAIN_PROXY = `
const http = require("node:http");
const upstream = new URL(process.argv[1]);
http.createServer((req, res) => {
  const up = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on("error", () => res.writeHead(502).end());
  req.pipe(up);
}).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port); });`;

/** The plain proxy with undici's client (Pool.dispatch, raw header lists): informational, not a reference. */
const PLAIN_UNDICI_PROXY = `
const http = require("node:http");
const { Pool } = require(process.argv[2]);
const pool = new Pool(process.argv[1]);
const hop = new Set(["connection", "keep-alive", "transfer-encoding", "host"]);
const kept = (raw) => { const out = []; for (let i = 0; i < raw.length; i += 2) { const k = String(raw[i]).toLowerCase(); if (!hop.has(k)) out.push(k, String(raw[i + 1])); } return out; };
http.createServer((req, res) => {
  const body = req.headers["content-length"] || req.headers["transfer-encoding"] ? req : null;
  pool.dispatch({ path: req.url, method: req.method, headers: kept(req.rawHeaders), body }, {
    onConnect() {},
    onHeaders(status, raw, resume) { res.writeHead(status, kept(raw)); res.on("drain", resume); return true; },
    onData(chunk) { return res.write(chunk); },
    onComplete() { res.end(); },
    onError() { if (!res.headersSent) res.writeHead(502); res.end(); },
  });
  if (!body) req.resume();
}).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port); });`;

/** The rows the targets are measured against. */
const isReference = (name: string) => name.startsWith("plain node:http proxy");

/** Starts a server process and waits for its "listening on URL" line. */
function serve(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let seen = "";
  let found = false;
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`no "listening" from ${args.join(" ")}: ${seen}`)), 60_000);
    child.stderr!.on("data", (d) => (seen += d));
    // Read all it prints (sampled request lines after the first), or its pipe fills and it blocks.
    child.stdout!.on("data", (d) => {
      if (found) return;
      seen += d;
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) {
        found = true;
        clearTimeout(timer);
        ready({ url: match[1], child });
      }
    });
    child.once("exit", (code) => fail(new Error(`${args.join(" ")} exited (${code}): ${seen}`)));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** User + system CPU seconds of a process so far (Linux /proc), or null. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** Busy and total jiffies of all cores so far (Linux /proc/stat), or null. */
function machineJiffies(): { busy: number; total: number } | null {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - cpu[3] - (cpu[4] ?? 0), total }; // idle, iowait
  } catch {
    return null;
  }
}

async function load(url: string, headers: Record<string, string>, o: DevProxyBenchOptions, seconds: number) {
  return autocannon({ url, connections: o.connections, duration: seconds, headers });
}

async function measure(name: string, args: string[], headers: Record<string, string>, o: DevProxyBenchOptions, upstreamPid: number | undefined): Promise<Measured> {
  const { url, child } = await serve(args);
  try {
    await load(url, headers, o, 1); // warm-up: JIT, connections, the filters' first requests
    const before = [cpuSeconds(child.pid), cpuSeconds(upstreamPid)];
    const ownBefore = process.cpuUsage();
    const machineBefore = machineJiffies();
    const r = await load(url, headers, o, o.seconds);
    const machineAfter = machineJiffies();
    const own = process.cpuUsage(ownBefore);
    const after = [cpuSeconds(child.pid), cpuSeconds(upstreamPid)];
    const count = r.requests.average * o.seconds;
    const perRequest = (i: number) => (before[i] === null || after[i] === null || count === 0 ? null : ((after[i]! - before[i]!) * 1e6) / count);
    const coresBusy =
      machineBefore && machineAfter ? ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * cpus().length : null;
    return {
      name,
      requestsPerSecond: r.requests.average,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
      cpuUsPerRequest: perRequest(0),
      upstreamCpuUsPerRequest: perRequest(1),
      loadCpuUsPerRequest: count === 0 ? 0 : (own.user + own.system) / count,
      coresBusy,
    };
  } finally {
    await stopProcess(child);
  }
}

export async function devProxyBench(o: DevProxyBenchOptions, progress: (s: string) => void = () => undefined): Promise<DevProxyBenchResult> {
  for (const name of ["add-header", "prime-authorizer"]) {
    if (!existsSync(wasm(name))) throw new Error(`${wasm(name)} missing: build it (node dist/cli/main.js build examples/${name})`);
  }
  const upstream = await serve(["-e", UPSTREAM]);
  try {
    const run = (filter: string, workers: number) => [CLI, "run", wasm(filter), "--upstream", upstream.url, "--port", "0", "--no-admin", "--concurrency", String(workers)];
    const prime = { token: "7919" }; // a prime: the authorizer lets it through to the upstream
    const plan: [string, string[], Record<string, string>][] = [
      ["plain node:http proxy", ["-e", PLAIN_PROXY, upstream.url], {}],
      ["plain proxy, undici client (not a target)", ["-e", PLAIN_UNDICI_PROXY, upstream.url, createRequire(import.meta.url).resolve("undici")], {}],
      ["run add-header, 1 worker", run("add-header", 1), {}],
      ["run add-header, 2 workers", run("add-header", 2), {}],
      ["run prime-authorizer, 1 worker", run("prime-authorizer", 1), prime],
      ["run prime-authorizer, 2 workers", run("prime-authorizer", 2), prime],
      // Not targets: with one worker the main thread keeps the deadline, so this should match the row
      // above; `run` as users type it (no --concurrency) serves on one worker thread too.
      ["run add-header, 1 worker, --callback-deadline 0", [...run("add-header", 1), "--callback-deadline", "0"], {}],
      ["run add-header, no --concurrency (default)", run("add-header", 1).slice(0, -2), {}],
      ["plain node:http proxy (again)", ["-e", PLAIN_PROXY, upstream.url], {}],
    ];
    const measured: Measured[] = [];
    for (const [name, args, headers] of plan) {
      progress(`dev proxy: ${name} (${o.connections} connections, ${o.seconds} s)`);
      measured.push(await measure(name, args, headers, o, upstream.child.pid));
    }
    const plains = measured.filter((m) => isReference(m.name));
    const plain = plains.reduce((n, m) => n + m.requestsPerSecond, 0) / plains.length;
    const rows = measured.map((m) => ({ ...m, ratio: isReference(m.name) ? null : m.requestsPerSecond / plain }));
    const verdicts = rows
      .filter((r) => r.ratio !== null && /workers?$/.test(r.name))
      .map((r) => {
        const one = r.name.endsWith("1 worker");
        return { what: r.name, ratio: r.ratio!, target: one ? ">= 0.8x" : "> 1.0x", met: one ? r.ratio! >= 0.8 : r.ratio! > 1 };
      });
    return { connections: o.connections, seconds: o.seconds, rows, verdicts };
  } finally {
    await stopProcess(upstream.child);
  }
}

export function formatDevProxyBench(r: DevProxyBenchResult): string {
  const lines = [
    `dev proxy throughput (autocannon, ${r.connections} connections, ${r.seconds} s each; plain = mean of the two plain node:http runs;`,
    `  cpu: µs per request of the proxy's process, the upstream's and autocannon's; cores: how many of the machine's ${cpus().length} were busy, every process counted):`,
  ];
  const us = (n: number | null) => (n === null ? "    ?" : n.toFixed(0).padStart(5));
  const pad = Math.max(...r.rows.map((x) => x.name.length));
  for (const x of r.rows) {
    const flags = x.non2xx || x.errors ? `  (${x.non2xx} non-2xx, ${x.errors} errors)` : "";
    lines.push(
      `  ${x.name.padEnd(pad)}  ${x.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${String(x.p50Ms).padStart(3)} ms  p99 ${String(x.p99Ms).padStart(3)} ms` +
        `  cpu ${us(x.cpuUsPerRequest)} / upstream ${us(x.upstreamCpuUsPerRequest)} / autocannon ${us(x.loadCpuUsPerRequest)}` +
        `  cores ${x.coresBusy === null ? "?" : x.coresBusy.toFixed(2)}` +
        (x.ratio === null ? "" : `  ${x.ratio.toFixed(2)}x plain`) +
        flags,
    );
  }
  lines.push("verdicts:");
  for (const v of r.verdicts) lines.push(`  ${v.what}: ${v.ratio.toFixed(2)}x the plain proxy (target ${v.target}): ${v.met ? "met" : "NOT met"}`);
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o: DevProxyBenchOptions = { seconds: 5, connections: 32 };
  let json = false;
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--seconds") o.seconds = Number(argv[++i]);
    else if (argv[i] === "--connections") o.connections = Number(argv[++i]);
    else if (argv[i] === "--json") json = true;
    else throw new Error(`unknown option ${argv[i]}: --seconds N, --connections N, --json`);
  }
  const result = await devProxyBench(o, (s) => process.stderr.write(`${s}\n`));
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${formatDevProxyBench(result)}\n`);
}

// npm run bench [-- --json] [--requests N] [--warmup N] [--cold N] [--no-build] [--functions]
//
// For add-header and the prime-token authorizer, three implementations side by side in one run
// (proxy-wasm-as, raw ABI, @solo-io/proxy-runtime 0.1.8), plus the host's own floor (empty and
// no-op filters). Everything runs interleaved, round by round, so all share the same noise.
// See bench/README.md for what each column means.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createPlugin, type Plugin, type PluginOptions } from "../host/index.js";
import { functionSizes, sectionSizes, withCustomSection } from "./wasm-sizes.js";
import { devProxyBench, formatDevProxyBench } from "./devproxy.js";
import { formatBuildTimes, measureBuildTimes, type BuildTimes } from "./build-times.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const OUT = join(ROOT, "bench/build");
const ASC = join(ROOT, "node_modules/assemblyscript/bin/asc.js");
const ASC_014 = join(ROOT, "node_modules/assemblyscript-0.14/bin/asc");

// ---- Options ----------------------------------------------------------------------------

interface Options {
  json: boolean;
  requests: number;
  warmup: number;
  cold: number;
  rounds: number;
  build: boolean;
  functions: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { json: false, requests: 1_000_000, warmup: 10_000, cold: 20, rounds: 100, build: true, functions: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === "--json") o.json = true;
    else if (a === "--requests") o.requests = num();
    else if (a === "--warmup") o.warmup = num();
    else if (a === "--cold") o.cold = num();
    else if (a === "--rounds") o.rounds = num();
    else if (a === "--no-build") o.build = false;
    else if (a === "--functions") o.functions = true;
    else throw new Error(`unknown option ${a} (see bench/README.md)`);
  }
  if (o.requests <= o.warmup) throw new Error("--requests must be larger than --warmup");
  return o;
}

// ---- What is measured ---------------------------------------------------------------------

type ImplName = "proxy-wasm-as" | "raw" | "solo-0.1.8";
type FilterName = "add-header" | "prime-authorizer" | "empty" | "noop";

interface Subject {
  filter: FilterName;
  impl: ImplName;
  wasmPath: string;
  options: PluginOptions;
  build: () => string | null; // an error message, or null
  bytes?: Uint8Array;
  /** Why this row cannot be measured (build failed, module refused, wrong behaviour). */
  unavailable?: string;
}

const ALLOWED_TOKEN = "7919"; // prime: the request goes through (and Miller–Rabin runs)
const DENIED_TOKEN = "7917"; // 3 × 7 × 13 × 29: a 403 local reply
const requestHeaders = (token: string): [string, string][] => [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "localhost"],
  [":scheme", "http"],
  ["user-agent", "bench"],
  ["token", token],
];
const ALLOWED_REQUEST = requestHeaders(ALLOWED_TOKEN);
const DENIED_REQUEST = requestHeaders(DENIED_TOKEN);
const RESPONSE_HEADERS: [string, string][] = [
  [":status", "200"],
  ["content-type", "text/plain"],
];
const RESPONSE_BODY = "hello from upstream";

function run(cmd: string, args: string[], cwd: string): string | null {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status === 0) return null;
  return `build failed: ${(r.stderr || r.stdout || String(r.error)).trim().split("\n").slice(-3).join(" | ")}`;
}

function ours(filter: "add-header" | "prime-authorizer"): Subject {
  const dir = join(ROOT, "examples", filter);
  return {
    filter,
    impl: "proxy-wasm-as",
    wasmPath: join(dir, "build/plugin.wasm"),
    options: {},
    build: () => run("npm", ["run", "build", "--silent"], dir),
  };
}

function raw(filter: FilterName): Subject {
  const out = join(OUT, `raw-${filter}.wasm`);
  return {
    filter,
    impl: "raw",
    wasmPath: out,
    options: {},
    build: () =>
      run(process.execPath, [ASC, `bench/raw/${filter}/assembly/index.ts`, "--config", "bench/raw/asconfig.json", "-o", out], ROOT),
  };
}

/**
 * @solo-io/proxy-runtime 0.1.8 needs a root id matching registerRootContext's and a non-empty
 * configuration (an empty one makes its onConfigure fail). Built with its best flags, plus
 * --explicitStart: its default build has a wasm start section; as _start it starts up like the others.
 */
function solo(filter: "add-header" | "prime-authorizer", rootId: string, configuration: string): Subject {
  const out = join(OUT, `solo-${filter}.wasm`);
  return {
    filter,
    impl: "solo-0.1.8",
    wasmPath: out,
    options: { rootId, configuration },
    build: () =>
      existsSync(ASC_014)
        ? run(process.execPath, [
            ASC_014, `bench/solo/${filter}/assembly/index.ts`, "--config", "bench/solo/asconfig.json", "-b", out,
            "--use", "abort=abort_proc_exit", "-O3", "--shrinkLevel", "2", "--converge", "--explicitStart",
          ], ROOT)
        : "assemblyscript-0.14 is not installed (npm install)",
  };
}

const SUBJECTS: Subject[] = [
  ours("add-header"),
  raw("add-header"),
  solo("add-header", "add_header", "world"),
  ours("prime-authorizer"),
  raw("prime-authorizer"),
  solo("prime-authorizer", "prime_authorizer", "token"),
  raw("empty"),
  raw("noop"),
];

const label = (s: Subject) => `${s.filter}/${s.impl}`;

// ---- Counting host calls without touching host/ -------------------------------------------
// WebAssembly.Instance is swapped only while a plugin starts, to wrap the imports it is given.

const RealInstance = WebAssembly.Instance;

interface Started {
  plugin: Plugin;
  error: string | null;
}

function startPlugin(bytes: Uint8Array, options: PluginOptions, counts?: Map<string, number>): Started {
  if (!counts) return started(createPlugin(bytes, options));
  function Counting(module: WebAssembly.Module, imports?: WebAssembly.Imports): WebAssembly.Instance {
    return new RealInstance(module, imports ? countCalls(imports, counts!) : imports);
  }
  Counting.prototype = RealInstance.prototype;
  (WebAssembly as { Instance: unknown }).Instance = Counting;
  try {
    return started(createPlugin(bytes, options));
  } finally {
    (WebAssembly as { Instance: unknown }).Instance = RealInstance;
  }
}

function started(plugin: Plugin): Started {
  const start = plugin.start();
  return { plugin, error: start.ok ? null : (start.error ?? "start failed") };
}

function countCalls(imports: WebAssembly.Imports, counts: Map<string, number>): WebAssembly.Imports {
  const out: WebAssembly.Imports = {};
  for (const [module, fns] of Object.entries(imports)) {
    const wrapped: Record<string, WebAssembly.ImportValue> = {};
    for (const [name, value] of Object.entries(fns)) {
      if (typeof value !== "function") {
        wrapped[name] = value;
        continue;
      }
      const key = module === "env" ? name : `${module}.${name}`;
      const fn = value as (...args: unknown[]) => unknown;
      wrapped[name] = (...args: unknown[]) => {
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return fn(...args);
      };
    }
    out[module] = wrapped;
  }
  return out;
}


// ---- One request ------------------------------------------------------------------------

/** A full stream: context create, request headers (eos), response headers, response body (eos), log, done, delete. */
function lifecycle(plugin: Plugin, request: [string, string][]): void {
  const stream = plugin.newHttpStream();
  stream.sendRequestHeaders(request, true);
  stream.sendResponseHeaders(RESPONSE_HEADERS, false);
  stream.sendResponseBody(RESPONSE_BODY, true);
  stream.complete();
}

/** Checks the filter does the work it claims, so a fast-but-wrong build cannot win. */
function checkBehaviour(s: Subject, plugin: Plugin): string | null {
  const check = (request: [string, string][]) => {
    const stream = plugin.newHttpStream();
    stream.sendRequestHeaders(request, true);
    stream.sendResponseHeaders(RESPONSE_HEADERS, false);
    stream.sendResponseBody(RESPONSE_BODY, true);
    stream.complete();
    return stream.result();
  };
  const allowed = check(ALLOWED_REQUEST);
  const headers = allowed.downstreamResponse?.headers ?? [];
  if (s.filter === "add-header") {
    const hello = headers.filter(([k]) => k === "hello").map(([, v]) => v);
    if (hello.length !== 1 || hello[0] !== "world") return `wrong result: response has hello=${JSON.stringify(hello)}`;
  } else if (s.filter === "prime-authorizer") {
    if (allowed.localResponse) return `wrong result: prime token ${ALLOWED_TOKEN} got ${allowed.localResponse.status}`;
    const denied = check(DENIED_REQUEST);
    if (denied.localResponse?.status !== 403 || denied.localResponse.body !== "Access forbidden.") {
      return `wrong result: token ${DENIED_TOKEN} was not answered 403 "Access forbidden."`;
    }
    const twice = check([...ALLOWED_REQUEST, ["token", ALLOWED_TOKEN]]);
    if (twice.localResponse?.status !== 403) return "wrong result: a duplicated token header was let through";
  } else if (allowed.localResponse || headers.length !== RESPONSE_HEADERS.length) {
    return "wrong result: the empty filter changed the stream";
  }
  return plugin.failed ? "the VM failed during the check" : null;
}

// ---- Measurements -----------------------------------------------------------------------

interface Result {
  filter: FilterName;
  impl: ImplName;
  wasmBytes: number | null;
  nsPerRequest: number | null;
  coldStartMs: number | null;
  memoryPagesAfterWarmup: number | null;
  memoryPagesAfter1M: number | null;
  /** Requests behind memoryPagesAfter1M (1,000,000 unless --requests). */
  requests: number;
  /** Half the interquartile range of the timed rounds: differences below it are noise. */
  nsPerRequestSpread?: number | null;
  /** Median over the rounds of this filter's time minus the empty filter's in the same round. */
  netNsPerRequest?: number | null;
  /** prime-authorizer only: the same lifecycle with a non-prime token (403 local reply). */
  nsPerRequestDenied?: number | null;
  /** Host calls per allowed request, by import name. */
  hostCallsPerRequest?: Record<string, number> | null;
  hostCallsPerDeniedRequest?: Record<string, number> | null;
  sections?: Record<string, number>;
  unavailable?: string;
}

/** Half the interquartile range. */
const spread = (xs: number[]) => {
  if (xs.length < 4) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((3 * (s.length - 1)) / 4)] - s[Math.floor((s.length - 1) / 4)]) / 2;
};

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function measureColdStarts(subjects: Subject[], n: number): Map<Subject, number> {
  const samples = new Map<Subject, number[]>(subjects.map((s) => [s, []]));
  const nonce = `${process.pid}-${Date.now()}`;
  for (let i = 0; i < n + 2; i++) {
    for (const s of rotate(subjects, i)) {
      // Fresh bytes every time: V8 caches compiled modules by content, Envoy's first load cannot.
      const bytes = withCustomSection(s.bytes!, `${nonce}-${i}`);
      const t0 = process.hrtime.bigint();
      const plugin = createPlugin(bytes, s.options);
      const start = plugin.start();
      const t1 = process.hrtime.bigint();
      if (!start.ok) throw new Error(`${label(s)}: start failed in the cold-start loop: ${start.error}`);
      if (i >= 2) samples.get(s)!.push(Number(t1 - t0) / 1e6); // the first two rounds warm the host's own JS
    }
  }
  return new Map([...samples].map(([s, xs]) => [s, median(xs)]));
}

function countHostCalls(s: Subject, request: [string, string][], n = 1000): Record<string, number> {
  const counts = new Map<string, number>();
  const { plugin, error } = startPlugin(s.bytes!, s.options, counts);
  if (error) throw new Error(`${label(s)}: ${error}`);
  for (let i = 0; i < 100; i++) lifecycle(plugin, request);
  counts.clear();
  for (let i = 0; i < n; i++) lifecycle(plugin, request);
  const out: Record<string, number> = {};
  let total = 0;
  for (const [name, c] of [...counts].sort((a, b) => b[1] - a[1])) {
    out[name] = c / n;
    total += c / n;
  }
  return { total, ...out };
}

function rotate<T>(xs: T[], by: number): T[] {
  const k = by % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

interface Job {
  subject: Subject;
  plugin: Plugin;
  request: [string, string][];
  denied: boolean;
  samples: number[];
  done: number;
}

function measureRequests(subjects: Subject[], o: Options, log: (s: string) => void): Map<Subject, Partial<Result>> {
  const jobs: Job[] = [];
  for (const s of subjects) {
    const variants = s.filter === "prime-authorizer" ? [false, true] : [false];
    for (const denied of variants) {
      const { plugin, error } = startPlugin(s.bytes!, s.options);
      if (error) throw new Error(`${label(s)}: ${error}`);
      jobs.push({ subject: s, plugin, request: denied ? DENIED_REQUEST : ALLOWED_REQUEST, denied, samples: [], done: 0 });
    }
  }
  const out = new Map<Subject, Partial<Result>>(subjects.map((s) => [s, {}]));
  // Warm-up: V8 tiers the hot functions up (Liftoff → TurboFan), the SDKs fill their caches.
  for (const j of jobs) {
    for (let i = 0; i < o.warmup; i++) lifecycle(j.plugin, j.request);
    j.done = o.warmup;
    if (!j.denied) out.get(j.subject)!.memoryPagesAfterWarmup = j.plugin.memoryPages;
  }
  const perRound = Math.ceil((o.requests - o.warmup) / o.rounds);
  // The denied variant only feeds a timing: a tenth of the requests is plenty for a median.
  const deniedPerRound = Math.max(1000, Math.ceil(perRound / 10));
  for (let round = 0; round < o.rounds; round++) {
    for (const j of rotate(jobs, round)) {
      const n = j.denied ? deniedPerRound : Math.min(perRound, o.requests - j.done);
      if (n <= 0) continue;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) lifecycle(j.plugin, j.request);
      const t1 = process.hrtime.bigint();
      j.samples.push(Number(t1 - t0) / n);
      j.done += n;
    }
    log(`  round ${round + 1}/${o.rounds}`);
  }
  // Net cost per round, paired with the floor measured in the same round: the drift of a noisy
  // machine hits both, where two separate medians would add their noise.
  const floor = jobs.find((j) => j.subject.filter === "empty" && !j.denied);
  for (const j of jobs) {
    if (j.plugin.failed) throw new Error(`${label(j.subject)}: the VM failed during the run`);
    const r = out.get(j.subject)!;
    if (j.denied) r.nsPerRequestDenied = median(j.samples);
    else {
      r.nsPerRequest = median(j.samples);
      r.nsPerRequestSpread = spread(j.samples);
      if (floor && floor.samples.length === j.samples.length) r.netNsPerRequest = median(j.samples.map((ns, round) => ns - floor.samples[round]));
      r.memoryPagesAfter1M = j.plugin.memoryPages;
      r.requests = j.done;
    }
  }
  return out;
}

// ---- Report -----------------------------------------------------------------------------

function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "n/a";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || !(b > 0) || Number.isNaN(a) ? null : a / b;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
      return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

function report(results: Result[], o: Options, elapsedS: number): string {
  const find = (filter: FilterName, impl: ImplName) => results.find((r) => r.filter === filter && r.impl === impl);
  const net = (r: Result | undefined) => r?.netNsPerRequest ?? null;
  const lines: string[] = [];
  const millions = o.requests === 1_000_000 ? "1M" : fmt(o.requests);
  lines.push(
    `proxy-wasm-as bench: node ${process.version} (V8 ${process.versions.v8}), ${fmt(o.requests)} requests per filter` +
      ` (${fmt(o.warmup)} warm-up), ${o.rounds} interleaved rounds, ${o.cold} cold starts; ${fmt(elapsedS, 0)} s`,
    "",
  );
  const header = [
    "filter / impl", "wasm bytes", "ns/req", "net ns/req", "denied ns/req", "cold ms", `pages @${fmt(o.warmup)}`,
    `pages @${millions}`, "host calls/req",
  ];
  const rows = [header];
  for (const r of results) {
    if (r.unavailable) {
      rows.push([`${r.filter} / ${r.impl}`, fmt(r.wasmBytes), `n/a (${r.unavailable})`, "", "", "", "", "", ""]);
      continue;
    }
    rows.push([
      `${r.filter} / ${r.impl}`,
      fmt(r.wasmBytes),
      `${fmt(r.nsPerRequest)} ±${fmt(r.nsPerRequestSpread)}`,
      r.filter === "empty" ? "(floor)" : fmt(net(r)),
      r.nsPerRequestDenied === undefined ? "" : fmt(r.nsPerRequestDenied),
      fmt(r.coldStartMs, 2),
      fmt(r.memoryPagesAfterWarmup),
      fmt(r.memoryPagesAfter1M),
      r.hostCallsPerRequest ? fmt(r.hostCallsPerRequest.total, 1) : "n/a",
    ]);
  }
  lines.push(table(rows), "");
  lines.push(
    "ns/req: median of the rounds ± half their interquartile range. net ns/req: median over the rounds of ns/req minus",
    "the host floor (empty filter) timed in the same round: what the filter and its SDK cost on top of the host; the",
    "per-request targets are judged on it.",
    "",
  );

  const ratioRows = [["ours / other", "wasm bytes", "ns/req", "net ns/req", "denied ns/req", "cold ms"]];
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as");
    for (const impl of ["raw", "solo-0.1.8"] as const) {
      const them = find(filter, impl);
      ratioRows.push([
        `${filter}: ours / ${impl}`,
        fmt(ratio(us?.wasmBytes, them?.wasmBytes), 2),
        fmt(ratio(us?.nsPerRequest, them?.nsPerRequest), 2),
        fmt(ratio(net(us), net(them)), 2),
        filter === "prime-authorizer" ? fmt(ratio(us?.nsPerRequestDenied, them?.nsPerRequestDenied), 2) : "",
        fmt(ratio(us?.coldStartMs, them?.coldStartMs), 2),
      ]);
    }
  }
  lines.push(table(ratioRows), "");

  const targets: string[][] = [["target", "measured", "verdict"]];
  const verdict = (ok: boolean | null) => (ok === null ? "n/a" : ok ? "PASS" : "FAIL");
  const addHeader = find("add-header", "proxy-wasm-as");
  targets.push(["add-header plugin.wasm <= 8,192 bytes", `${fmt(addHeader?.wasmBytes)} bytes`, verdict(addHeader?.wasmBytes == null ? null : addHeader.wasmBytes <= 8192)]);
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as");
    const rawR = ratio(net(us), net(find(filter, "raw")));
    const soloR = ratio(net(us), net(find(filter, "solo-0.1.8")));
    targets.push([`${filter}: net per request <= 1.5x raw`, `${fmt(rawR, 2)}x`, verdict(rawR === null ? null : rawR <= 1.5)]);
    targets.push([`${filter}: net per request <= 0.25x solo-0.1.8`, `${fmt(soloR, 2)}x`, verdict(soloR === null ? null : soloR <= 0.25)]);
  }
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as");
    const ok = us?.memoryPagesAfterWarmup == null || us.memoryPagesAfter1M == null ? null : us.memoryPagesAfter1M <= us.memoryPagesAfterWarmup;
    targets.push([`${filter}: no memory growth ${fmt(o.warmup)} -> ${millions} requests`, `${fmt(us?.memoryPagesAfterWarmup)} -> ${fmt(us?.memoryPagesAfter1M)} pages`, verdict(ok)]);
  }
  const denied = find("prime-authorizer", "proxy-wasm-as")?.hostCallsPerDeniedRequest;
  if (denied) {
    const logs = denied.proxy_log ?? 0;
    const levels = denied.proxy_get_log_level ?? 0;
    targets.push([
      "log below level: no proxy_log, level check cached (denied path logs at debug)",
      `proxy_log ${fmt(logs, 2)}/req, proxy_get_log_level ${fmt(levels, 2)}/req`,
      verdict(logs === 0 && levels < 1),
    ]);
  } else {
    targets.push(["log below level: no proxy_log, level check cached", "n/a", "n/a"]);
  }
  for (const filter of ["add-header", "prime-authorizer"] as const) {
    const us = find(filter, "proxy-wasm-as")?.coldStartMs;
    const them = find(filter, "solo-0.1.8")?.coldStartMs;
    targets.push([`${filter}: cold start <= solo-0.1.8`, `${fmt(us, 2)} vs ${fmt(them, 2)} ms`, verdict(us == null || them == null ? null : us <= them)]);
  }
  lines.push(table(targets), "");

  lines.push("host calls per request (allowed request; the denied authorizer request after '|'):");
  for (const r of results) {
    if (!r.hostCallsPerRequest) continue;
    const list = (calls: Record<string, number>) =>
      Object.entries(calls)
        .filter(([k]) => k !== "total")
        .map(([k, v]) => `${k} ${fmt(v, v % 1 ? 2 : 0)}`)
        .join(", ") || "none";
    const deniedCalls = r.hostCallsPerDeniedRequest ? ` | ${list(r.hostCallsPerDeniedRequest)}` : "";
    lines.push(`  ${`${r.filter} / ${r.impl}`.padEnd(32)} ${list(r.hostCallsPerRequest)}${deniedCalls}`);
  }
  lines.push("", "sections (bytes):");
  for (const r of results) {
    if (!r.sections) continue;
    const list = Object.entries(r.sections).map(([k, v]) => `${k} ${v}`).join(", ");
    lines.push(`  ${`${r.filter} / ${r.impl}`.padEnd(32)} ${list}`);
  }
  return lines.join("\n");
}

function functionReport(): string {
  const dir = join(ROOT, "examples/add-header");
  const out = join(OUT, "proxy-wasm-as-add-header.debug.wasm");
  const error = run(process.execPath, [ASC, "assembly/index.ts", "--target", "release", "--debug", "-o", out], dir);
  if (error) return `add-header --debug build: ${error}`;
  const bytes = readFileSync(out);
  const fns = functionSizes(bytes);
  const total = fns.reduce((a, f) => a + f.bytes, 0);
  const rows = [["function (release build with --debug names)", "bytes", "share of code"]];
  for (const f of fns.slice(0, 30)) rows.push([f.name, fmt(f.bytes), `${fmt((100 * f.bytes) / total, 1)}%`]);
  return `examples/add-header: ${fns.length} functions, ${fmt(total)} bytes of code\n${table(rows)}`;
}

// ---- Main -------------------------------------------------------------------------------

/** With --json, the request results wait for the build times: one JSON document for both. */
let benchResults: Result[] | null = null;

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const progress = (s: string) => process.stderr.write(`${s}\n`);
  mkdirSync(OUT, { recursive: true });
  for (const s of SUBJECTS) {
    if (o.build) {
      progress(`building ${label(s)}`);
      const error = s.build();
      if (error) {
        s.unavailable = error;
        continue;
      }
    }
    if (!existsSync(s.wasmPath)) {
      s.unavailable = `${s.wasmPath} missing`;
      continue;
    }
    s.bytes = new Uint8Array(readFileSync(s.wasmPath));
    const { plugin, error } = startPlugin(s.bytes, s.options);
    if (error) {
      s.unavailable = `does not start on the host: ${error}`;
      continue;
    }
    const wrong = checkBehaviour(s, plugin);
    if (wrong) s.unavailable = wrong;
  }
  const ready = SUBJECTS.filter((s) => !s.unavailable);
  progress(`cold starts (${o.cold} each)`);
  const cold = measureColdStarts(ready, o.cold);
  progress("host calls per request");
  const calls = new Map(ready.map((s) => [s, countHostCalls(s, ALLOWED_REQUEST)]));
  const deniedCalls = new Map(ready.filter((s) => s.filter === "prime-authorizer").map((s) => [s, countHostCalls(s, DENIED_REQUEST)]));
  progress(`requests (${fmt(o.requests)} per filter, interleaved)`);
  const requests = measureRequests(ready, o, progress);

  const results: Result[] = SUBJECTS.map((s) => {
    const base: Result = {
      filter: s.filter,
      impl: s.impl,
      wasmBytes: s.bytes?.length ?? (existsSync(s.wasmPath) ? readFileSync(s.wasmPath).length : null),
      nsPerRequest: null,
      coldStartMs: null,
      memoryPagesAfterWarmup: null,
      memoryPagesAfter1M: null,
      requests: o.requests,
    };
    if (s.unavailable) return { ...base, unavailable: s.unavailable };
    const r = requests.get(s)!;
    return {
      ...base,
      nsPerRequest: round(r.nsPerRequest ?? null),
      nsPerRequestSpread: round(r.nsPerRequestSpread ?? null),
      ...(s.filter !== "empty" && r.netNsPerRequest !== undefined ? { netNsPerRequest: round(r.netNsPerRequest) } : {}),
      coldStartMs: round(cold.get(s) ?? null, 3),
      memoryPagesAfterWarmup: r.memoryPagesAfterWarmup ?? null,
      memoryPagesAfter1M: r.memoryPagesAfter1M ?? null,
      requests: r.requests ?? o.requests,
      ...(r.nsPerRequestDenied !== undefined ? { nsPerRequestDenied: round(r.nsPerRequestDenied) } : {}),
      hostCallsPerRequest: calls.get(s) ?? null,
      ...(deniedCalls.has(s) ? { hostCallsPerDeniedRequest: deniedCalls.get(s) } : {}),
      sections: Object.fromEntries(sectionSizes(s.bytes!).map((x) => [x.name, x.bytes])),
    };
  });
  const elapsed = (Date.now() - t0) / 1000;
  if (o.json) {
    benchResults = results;
  } else {
    process.stdout.write(`${report(results, o, elapsed)}\n`);
    if (o.functions) process.stdout.write(`\n${functionReport()}\n`);
  }
}

function round(n: number | null, digits = 0): number | null {
  if (n === null || Number.isNaN(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

try {
  main();
  const buildTimes: BuildTimes = await measureBuildTimes((what) => process.stderr.write(`${what}\n`));
  const devProxy = await devProxyBench({ seconds: 5, connections: 32 }, (what) => process.stderr.write(`${what}\n`));
  if (benchResults) process.stdout.write(`${JSON.stringify({ results: benchResults, buildTimes, devProxy }, null, 2)}\n`);
  else process.stdout.write(`\n${formatBuildTimes(buildTimes)}\n\n${formatDevProxyBench(devProxy)}\n`);
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
}

// The soak: N mixed requests (default 1,000,000) through the examples, each example in one VM for
// the whole run, plus two VMs sharing a vm_id that increment a shared counter with CAS retries,
// their requests interleaved so that half of the writes lose the race and must retry.
// Checks: no trap, no memory growth after warm-up, no lost increment.
//
//   npm run soak [-- --requests N] [--seed S] [--json]
//   --json prints {"inputsTried": N, "traps": 0, "memoryGrowthPages": 0, "lostIncrements": 0, "seconds": S}
// Exit status 1 when any of traps, memoryGrowthPages or lostIncrements is not 0.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createPlugin, type HeaderInput, type Plugin, type RequestResult, type RequestSpec } from "../host/index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function parseArgs(argv: string[]): { requests: number; seed: number; json: boolean } {
  const out = { requests: 1_000_000, seed: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") out.json = true;
    else if (a === "--requests") out.requests = Number(argv[++i]);
    else if (a === "--seed") out.seed = Number(argv[++i]);
    else throw new Error(`unknown argument ${a} (usage: soak [--requests N] [--seed S] [--json])`);
  }
  if (!Number.isInteger(out.requests) || out.requests < 1) throw new Error("--requests: a positive whole number");
  return out;
}

/** xorshift32: fast and reproducible. */
function rng(seed: number) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    int: (n: number) => next() % n,
    pick: <T>(xs: readonly T[]): T => xs[next() % xs.length],
    bytes: (n: number) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}

const PRIMES = ["2", "13", "7919", "104729", "18446744073709551557"];
const COMPOSITES = ["1", "15", "7917", "18446744073709551615", "", "abc", "+13", "99999999999999999999999"];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "BREW", ""];
const STATUSES = ["200", "201", "301", "404", "500", "503", "999"];

const example = (name: string) => readFileSync(`${root}examples/${name}/build/plugin.wasm`);

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const r = rng(args.seed);
  const started = performance.now();
  const log = (msg: string) => {
    if (!args.json) process.stderr.write(`${msg}\n`);
  };

  const plugins: Record<string, Plugin> = {
    "add-header": createPlugin(example("add-header"), { configuration: '{"name": "x-soak", "value": "1"}', vmId: "soak-add-header" }),
    "prime-authorizer": createPlugin(example("prime-authorizer"), { vmId: "soak-prime" }),
    "body-rewrite": createPlugin(example("body-rewrite"), { configuration: '{"field": "soaked", "value": {"ok": true}, "maxBodyBytes": 65536}', vmId: "soak-body" }),
    "rate-limit": createPlugin(example("rate-limit"), { configuration: '{"requestsPerSecond": 1e9, "burst": 1e9, "keyHeader": "x-key"}', vmId: "soak-rate" }),
    metrics: createPlugin(example("metrics"), { vmId: "soak-metrics" }),
  };
  const counterWasm = readFileSync(`${root}tests/filters/reliability/build/plugin.wasm`);
  const counters = [0, 1].map(() => createPlugin(counterWasm, { configuration: "counter", vmId: "soak-counter" }));
  for (const [name, p] of [...Object.entries(plugins), ["counter", counters[0]] as const, ["counter", counters[1]] as const]) {
    const start = p.start();
    if (!start.ok) throw new Error(`${name} did not start: ${start.error}`);
  }

  let inputsTried = 0;
  let traps = 0;
  let wrongAnswers = 0;
  const wrong: string[] = [];
  const check = (name: string, plugin: Plugin, result: RequestResult, ok: boolean, what: () => string) => {
    inputsTried++;
    if (plugin.failed || result.stopped === "vm_failed") {
      traps++;
      throw new Error(`${name} trapped: ${plugin.failure}`);
    }
    if (!ok) {
      wrongAnswers++;
      if (wrong.length < 5) wrong.push(`${name}: ${what()}`);
    }
  };

  const randomHeaders = (max: number, valueMax: number): HeaderInput[] => {
    const n = r.int(max + 1);
    const out: HeaderInput[] = [];
    for (let i = 0; i < n; i++) {
      const name = r.int(4) === 0 ? r.bytes(1 + r.int(12)) : `x-h${r.int(50)}`;
      const value = r.int(3) === 0 ? r.bytes(r.int(valueMax + 1)) : "v".repeat(r.int(valueMax + 1));
      out.push([name, value]);
    }
    return out;
  };
  const randomBody = (max: number): Uint8Array[] => {
    const chunks: Uint8Array[] = [];
    const n = r.int(4);
    for (let i = 0; i < n; i++) chunks.push(r.bytes(r.int(max + 1)));
    return chunks;
  };

  /** One request through one example, with a check of what the example must have done. */
  const oneRequest = (name: string, big: boolean) => {
    const plugin = plugins[name];
    const headers = big ? Array.from({ length: 100 }, (_, i): HeaderInput => [`x-big-${i}`, "b".repeat(2048)]) : randomHeaders(12, 200);
    const body = big ? [new Uint8Array(64 * 1024).fill(0x62), new Uint8Array(64 * 1024).fill(0x63)] : randomBody(2048);
    let spec: RequestSpec;
    switch (name) {
      case "prime-authorizer": {
        const good = r.int(2) === 0;
        const token = good ? r.pick(PRIMES) : r.pick(COMPOSITES);
        spec = { requestHeaders: [...headers.filter(([k]) => typeof k !== "string" || k !== "token"), [r.pick(["token", "TOKEN", "Token"]), token]], requestBody: body, responseBody: ["upstream"] };
        const result = plugin.runHttpRequest(spec);
        const allowed = PRIMES.includes(token);
        check(name, plugin, result, allowed ? result.localResponse === null : result.localResponse?.status === 403 && !result.downstreamResponse!.body.includes("upstream"), () => `token ${token}`);
        return;
      }
      case "body-rewrite": {
        const json = r.int(2) === 0;
        const payload = json ? `{"id": ${r.int(1000)}, "pad": "${"p".repeat(big ? 60000 : r.int(500))}"}` : "not json";
        spec = { requestHeaders: headers, responseHeaders: [["content-type", json ? "application/json" : "text/plain"]], responseBody: [payload.slice(0, 10), payload.slice(10)] };
        const result = plugin.runHttpRequest(spec);
        let ok = true;
        if (json) {
          try {
            ok = (JSON.parse(result.downstreamResponse!.body) as { soaked?: { ok?: boolean } }).soaked?.ok === true;
          } catch {
            ok = false;
          }
        } else ok = result.downstreamResponse!.body === payload;
        check(name, plugin, result, ok, () => `json=${json}`);
        return;
      }
      case "rate-limit": {
        const result = plugin.runHttpRequest({ requestHeaders: [...headers, ["x-key", `k${r.int(20)}`]], requestBody: body });
        check(name, plugin, result, result.localResponse === null, () => `limited: ${result.localResponse?.status}`);
        return;
      }
      case "metrics": {
        const result = plugin.runHttpRequest({ requestHeaders: [[":method", r.pick(METHODS)], ...headers], responseHeaders: [[":status", r.pick(STATUSES)]], requestBody: body });
        check(name, plugin, result, result.localResponse === null, () => "answered locally");
        return;
      }
      default: {
        const result = plugin.runHttpRequest({ requestHeaders: headers, requestBody: body, responseHeaders: randomHeaders(5, 50) });
        check(name, plugin, result, result.downstreamResponse?.headers.some(([k, v]) => k === "x-soak" && v === "1") === true, () => "no x-soak");
      }
    }
  };

  // CAS: A and B read the counter in their request headers, then write value+1 with the CAS they
  // read in their response headers. The second writer always loses the race and must retry.
  let increments = 0;
  let retries = 0;
  const casPair = () => {
    const [a, b] = r.int(2) === 0 ? counters : [counters[1], counters[0]];
    const sa = a.newHttpStream();
    const sb = b.newHttpStream();
    sa.sendRequestHeaders([[":path", "/"]], true);
    sb.sendRequestHeaders([[":path", "/"]], true);
    for (const [s, p] of r.int(2) === 0 ? [[sa, a], [sb, b]] as const : [[sb, b], [sa, a]] as const) {
      s.sendResponseHeaders([[":status", "200"]], true);
      s.complete();
      const result = s.result();
      const h = result.downstreamResponse?.headers ?? [];
      if (h.some(([k, v]) => k === "x-cas-retried" && v === "yes")) retries++;
      check("counter", p, result, !h.some(([k]) => k === "x-cas-failed"), () => "CAS gave up");
      increments++;
    }
  };

  const names = Object.keys(plugins);
  // Warm-up: the largest shapes first, so the heap reaches its high-water mark before measuring.
  for (const name of names) for (let i = 0; i < 200; i++) oneRequest(name, i % 2 === 0);
  for (let i = 0; i < 2000; i++) oneRequest(names[i % names.length], false);
  for (let i = 0; i < 200; i++) casPair();
  const pagesAfterWarmup = [...Object.values(plugins), ...counters].map((p) => p.memoryPages);
  log(`warm-up done: ${inputsTried} inputs, memory pages ${JSON.stringify(pagesAfterWarmup)}`);

  let lastReport = performance.now();
  while (inputsTried < args.requests) {
    if (r.int(10) === 0) casPair();
    else oneRequest(r.pick(names), r.int(1000) === 0);
    if (!args.json && performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      log(`${inputsTried} inputs, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }

  const pagesAtEnd = [...Object.values(plugins), ...counters].map((p) => p.memoryPages);
  const memoryGrowthPages = pagesAtEnd.reduce((n, p, i) => n + (p - pagesAfterWarmup[i]), 0);
  const stored = counters[0].sharedData("counter")?.value;
  const counted = stored && stored.length === 8 ? Number(new DataView(stored.buffer, stored.byteOffset, 8).getBigUint64(0, true)) : 0;
  const lostIncrements = increments - counted;
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  const summary = { inputsTried, traps, memoryGrowthPages, lostIncrements, seconds };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    log(`memory pages at the end ${JSON.stringify(pagesAtEnd)}`);
    log(`counter: ${increments} increments, ${retries} CAS retries, stored ${counted}`);
    if (wrongAnswers > 0) log(`${wrongAnswers} answers did not match the model, e.g. ${wrong.join("; ")}`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  if (traps > 0 || memoryGrowthPages !== 0 || lostIncrements !== 0 || wrongAnswers > 0) process.exitCode = 1;
}

main();

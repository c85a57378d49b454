// Where a stream's nanoseconds go inside the module: each filter's exports called straight from JavaScript,
// without the host, so what remains is the module's own work per callback and V8's cost of entering wasm.
// The imports answer at once: the log level is info, the request's header pairs (the authorizer's only
// read) are copied into memory the module's allocator hands out, every other call succeeds and does nothing.
// Interleaved round by round like the host's rounds.
import { median, rotate } from "../stats.js";
import type { Subject } from "./subjects.js";

type Exports = Record<string, (...args: number[]) => number>;

/** The callbacks of one stream the host makes in the request section, in its order. */
const STREAM: [string, (id: number) => number[]][] = [
  ["proxy_on_context_create", (id) => [id, 1]],
  ["proxy_on_request_headers", (id) => [id, 6, 1]],
  ["proxy_on_response_headers", (id) => [id, 2, 0]],
  ["proxy_on_response_body", (id) => [id, 19, 1]],
  ["proxy_on_log", (id) => [id]],
  ["proxy_on_done", (id) => [id]],
  ["proxy_on_delete", (id) => [id]],
];

/** The ABI's pairs encoding of `headers` (u32 count, lengths, then NUL-terminated names and values). */
function encodePairs(headers: [string, string][]): Uint8Array {
  const encoder = new TextEncoder();
  const parts = headers.map(([name, value]) => [encoder.encode(name), encoder.encode(value)]);
  const size = parts.reduce((n, [name, value]) => n + name.length + value.length + 2, 4 + 8 * parts.length);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, parts.length, true);
  let at = 4 + 8 * parts.length;
  parts.forEach(([name, value], i) => {
    view.setUint32(4 + 8 * i, name.length, true);
    view.setUint32(8 + 8 * i, value.length, true);
    bytes.set(name, at);
    bytes.set(value, at + name.length + 1);
    at += name.length + value.length + 2;
  });
  return bytes;
}

function instantiate(bytes: Uint8Array, requestPairs: Uint8Array): Exports {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  const imports: Record<string, Record<string, unknown>> = {};
  let exports: Exports & { memory: WebAssembly.Memory };
  const answers: Record<string, (...args: number[]) => number> = {
    proxy_get_log_level: (at) => (new DataView(exports.memory.buffer).setUint32(at, 2, true), 0),
    proxy_get_header_map_pairs: (_map, pointerAt, sizeAt) => {
      const pointer = (exports.proxy_on_memory_allocate ?? exports.malloc)(requestPairs.length);
      new Uint8Array(exports.memory.buffer, pointer, requestPairs.length).set(requestPairs);
      const view = new DataView(exports.memory.buffer);
      view.setUint32(pointerAt, pointer, true);
      view.setUint32(sizeAt, requestPairs.length, true);
      return 0;
    },
  };
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== "function") continue;
    imports[from] ??= {};
    imports[from][name] = answers[name] ?? (() => 0);
  }
  exports = new WebAssembly.Instance(module, imports as WebAssembly.Imports).exports as unknown as typeof exports;
  const call = (name: string, ...args: number[]) => exports[name]?.(...args);
  call("_initialize") ?? call("_start");
  call("proxy_on_context_create", 1, 0);
  call("proxy_on_vm_start", 1, 0);
  call("proxy_on_configure", 1, 0);
  return exports;
}

/** One stream of a subject: its module, and the request headers it gets. */
export interface DirectRun {
  subject: Subject;
  request: [string, string][];
}

/** One stream of a run's exports, called straight from JavaScript. */
function directStream(run: DirectRun): () => void {
  const exports = instantiate(run.subject.bytes!, encodePairs(run.request));
  const calls = STREAM.filter(([name]) => exports[name]).map(([name, args]) => ({ fn: exports[name], args }));
  let id = 2;
  return () => {
    const current = id++;
    for (const { fn, args } of calls) fn(...args(current));
  };
}

/** Median ns per stream of each run's exports, without the host. */
export function measureDirect(runs: DirectRun[], rounds = 30, perRound = 20_000): Map<DirectRun, number> {
  const timed = runs.map((run) => ({ run, stream: directStream(run), samples: [] as number[] }));
  for (const r of timed) for (let i = 0; i < perRound * 5; i++) r.stream();
  for (let round = 0; round < rounds; round++) {
    for (const r of rotate(timed, round)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) r.stream();
      r.samples.push(Number(process.hrtime.bigint() - t0) / perRound);
    }
  }
  return new Map(timed.map((r) => [r.run, median(r.samples)]));
}

/** CPU ns per call of `stream`: the host's work is 20-50x the difference sought, and CPU time leaves out other processes' turns. */
const cpuBlock = (stream: () => void, n: number): number => {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) stream();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
};

/**
 * The same streams, each right after `hostWork` (one stream of the empty filter through the host): the
 * exports then find the caches and branch predictors as the host's JavaScript leaves them, as they do in
 * the host's rounds, where the direct loop above keeps everything hot. Median ns per stream over the
 * rounds (CPU time), net of `hostWork` alone timed just before and after each block.
 */
export function measureDirectAfterHost(runs: DirectRun[], hostWork: () => void, rounds = 30, perRound = 10_000): Map<DirectRun, number> {
  const timed = runs.map((run) => {
    const direct = directStream(run);
    return { run, stream: () => (hostWork(), direct()), net: [] as number[] };
  });
  for (const r of timed) cpuBlock(r.stream, perRound);
  cpuBlock(hostWork, perRound);
  for (let round = 0; round < rounds; round++) {
    let before = cpuBlock(hostWork, perRound);
    for (const r of rotate(timed, round)) {
      const ns = cpuBlock(r.stream, perRound);
      const after = cpuBlock(hostWork, perRound);
      r.net.push(ns - (before + after) / 2);
      before = after;
    }
  }
  return new Map(timed.map((r) => [r.run, median(r.net)]));
}

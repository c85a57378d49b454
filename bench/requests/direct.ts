// Where a stream's nanoseconds go inside the module: each filter's exports called straight from JavaScript,
// without the host (the imports answer at once), so what remains is the module's own work per callback and
// V8's cost of entering wasm. Interleaved round by round like the host's rounds.
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

function instantiate(bytes: Uint8Array): Exports {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  const imports: Record<string, Record<string, unknown>> = {};
  let memory: WebAssembly.Memory | undefined;
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== "function") continue;
    imports[from] ??= {};
    // The log level (info) when asked; every other import succeeds and writes nothing.
    imports[from][name] = name === "proxy_get_log_level" ? (at: number) => (new DataView(memory!.buffer).setUint32(at, 2, true), 0) : () => 0;
  }
  const exports = new WebAssembly.Instance(module, imports as WebAssembly.Imports).exports as unknown as Exports & { memory: WebAssembly.Memory };
  memory = exports.memory;
  const call = (name: string, ...args: number[]) => exports[name]?.(...args);
  call("_initialize") ?? call("_start");
  call("proxy_on_context_create", 1, 0);
  call("proxy_on_vm_start", 1, 0);
  call("proxy_on_configure", 1, 0);
  return exports;
}

/** Median ns per stream of each subject's exports, without the host; only for add-header-like filters that need no host data. */
export function measureDirect(subjects: Subject[], rounds = 30, perRound = 20_000): Map<Subject, number> {
  const runs = subjects.map((s) => {
    const exports = instantiate(s.bytes!);
    const calls = STREAM.filter(([name]) => exports[name]).map(([name, args]) => ({ fn: exports[name], args }));
    let id = 2;
    const stream = () => {
      const current = id++;
      for (const { fn, args } of calls) fn(...args(current));
    };
    return { s, stream, samples: [] as number[] };
  });
  for (const r of runs) for (let i = 0; i < perRound * 5; i++) r.stream();
  for (let round = 0; round < rounds; round++) {
    for (const r of rotate(runs, round)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) r.stream();
      r.samples.push(Number(process.hrtime.bigint() - t0) / perRound);
    }
  }
  return new Map(runs.map((r) => [r.s, median(r.samples)]));
}

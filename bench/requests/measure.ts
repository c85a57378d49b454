// Cold starts, host calls per request, and the interleaved timed rounds.
import { createPlugin, type Plugin } from "../../host/index.js";
import type { Options } from "../options.js";
import { median, rotate, spread } from "../stats.js";
import { withCustomSection } from "../wasm-sizes.js";
import { ALLOWED_REQUEST, DENIED_REQUEST, lifecycle, startPlugin } from "./plugins.js";
import { label, type Subject } from "./subjects.js";

export interface Timings {
  nsPerRequest?: number;
  /** Half the interquartile range of the timed rounds: differences below it are noise. */
  nsPerRequestSpread?: number;
  /** Median over the rounds of this filter's time minus the empty filter's, timed just before and after it. */
  netNsPerRequest?: number;
  /** prime-authorizer only: the same lifecycle with a non-prime token (403 local reply). */
  netNsPerRequestDenied?: number;
  memoryPagesAfterWarmup?: number;
  memoryPagesAfter1M?: number;
  requests?: number;
}

export function measureColdStarts(subjects: Subject[], n: number): Map<Subject, number> {
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

/** Host functions called per request, by import name, with their `total`. */
export function countHostCalls(s: Subject, request: [string, string][], n = 1000): Record<string, number> {
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

interface Job {
  subject: Subject;
  plugin: Plugin;
  request: [string, string][];
  denied: boolean;
  samples: number[];
  /** Per block: its ns/req minus the mean of the floor blocks timed just before and just after it. */
  net: number[];
  done: number;
}

/** Requests in each block of the floor (the empty filter) that brackets every timed block. */
const FLOOR_BLOCK = 1000;

function timeBlock(j: Job, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) lifecycle(j.plugin, j.request);
  const t1 = process.hrtime.bigint();
  j.done += n;
  return Number(t1 - t0) / n;
}

export function measureRequests(subjects: Subject[], o: Options, log: (s: string) => void): Map<Subject, Timings> {
  const jobs: Job[] = [];
  for (const s of subjects) {
    const variants = s.filter === "prime-authorizer" ? [false, true] : [false];
    for (const denied of variants) {
      const { plugin, error } = startPlugin(s.bytes!, s.options);
      if (error) throw new Error(`${label(s)}: ${error}`);
      jobs.push({ subject: s, plugin, request: denied ? DENIED_REQUEST : ALLOWED_REQUEST, denied, samples: [], net: [], done: 0 });
    }
  }
  const out = new Map<Subject, Timings>(subjects.map((s) => [s, {}]));
  // Warm-up: V8 tiers the hot functions up (Liftoff → TurboFan), the SDKs fill their caches.
  for (const j of jobs) {
    for (let i = 0; i < o.warmup; i++) lifecycle(j.plugin, j.request);
    j.done = o.warmup;
    if (!j.denied) out.get(j.subject)!.memoryPagesAfterWarmup = j.plugin.memoryPages;
  }
  const perRound = Math.ceil((o.requests - o.warmup) / o.rounds);
  // The denied variant only feeds a timing: a tenth of the requests is plenty for a median.
  const deniedPerRound = Math.max(1000, Math.ceil(perRound / 10));
  // Every block is bracketed by two short blocks of the floor, moments apart: its net cost is its time minus
  // their mean, so a drift of the machine's speed (other processes, frequency) cancels out of the net, where a
  // floor timed once per round, up to a second away, left it in. The floor's own rounds are timed like the rest.
  const floor = jobs.find((j) => j.subject.filter === "empty" && !j.denied);
  const timed = jobs.filter((j) => j !== floor);
  for (let round = 0; round < o.rounds; round++) {
    let before = floor ? timeBlock(floor, FLOOR_BLOCK) : 0;
    if (floor) floor.samples.push(before);
    for (const j of rotate(timed, round)) {
      const n = j.denied ? deniedPerRound : Math.min(perRound, o.requests - j.done);
      if (n <= 0) continue;
      const ns = timeBlock(j, n);
      j.samples.push(ns);
      if (!floor) continue;
      const after = timeBlock(floor, FLOOR_BLOCK);
      j.net.push(ns - (before + after) / 2);
      before = after;
    }
    if ((round + 1) % 10 === 0 || round + 1 === o.rounds) log(`  round ${round + 1}/${o.rounds}`);
  }
  const net = (j: Job) => (j.net.length > 0 ? median(j.net) : undefined);
  for (const j of jobs) {
    if (j.plugin.failed) throw new Error(`${label(j.subject)}: the VM failed during the run`);
    const r = out.get(j.subject)!;
    if (j.denied) r.netNsPerRequestDenied = net(j);
    else {
      r.nsPerRequest = median(j.samples);
      r.nsPerRequestSpread = spread(j.samples);
      r.netNsPerRequest = net(j);
      r.memoryPagesAfter1M = j.plugin.memoryPages;
      r.requests = j.done;
    }
  }
  return out;
}

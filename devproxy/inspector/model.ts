// What the inspector page shows, kept in bounded memory on the proxy's side: the last requests
// (a ring), the requests in flight, wasm time per filter and phase (the last samples of each, for
// percentiles) and each VM's memory over time with the leak alarm. It takes the events of one or
// more filter sets (main thread or workers) through `accept`.

import type { InspectorEvent, MemorySample, RequestEnd, RequestStart } from "./events.js";

/**
 * The leak alarm: wasm memory never shrinks, so a filter that settles grows while it warms up
 * and then stays flat. A VM whose memory grew LEAK_GROWTHS times or more within the last
 * LEAK_WINDOW_MS, not counting its first LEAK_WARMUP_MS, keeps asking for more: it is flagged
 * until a whole window passes without growth.
 */
export const LEAK_RULE = { growths: 4, windowMs: 60_000, warmupMs: 5_000 };

export interface ModelLimits {
  /** Finished requests kept with their traces. */
  requests: number;
  /** Requests in flight tracked; past it the oldest is forgotten (it still ends in the ring). */
  inFlight: number;
  /** wasm time samples kept per filter and phase. */
  timings: number;
  /** Memory samples kept per VM, and VMs kept (replaced versions drop out first). */
  memorySamples: number;
  vms: number;
}

export const DEFAULT_LIMITS: ModelLimits = { requests: 200, inFlight: 500, timings: 1024, memorySamples: 300, vms: 32 };

export interface PhaseStats {
  filter: string;
  phase: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface VmMemory {
  vm: string;
  filter: string;
  pages: number;
  bytes: number;
  samples: [at: number, pages: number][];
  /** Set while the leak rule holds. */
  leak: { growths: number; fromPages: number; toPages: number; windowMs: number } | null;
}

export interface Snapshot {
  requests: RequestEnd[];
  inFlight: RequestStart[];
  /** Requests seen since the proxy started (the ring holds the last `limits.requests`). */
  total: number;
  phases: PhaseStats[];
  memory: VmMemory[];
  leakRule: typeof LEAK_RULE;
}

/** The newest `size` values pushed. */
class Ring<T> {
  private readonly items: T[] = [];
  private head = 0;
  constructor(private readonly size: number) {}
  push(item: T): void {
    if (this.items.length < this.size) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.size;
    }
  }
  /** Oldest first. */
  values(): T[] {
    return [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }
  get length(): number {
    return this.items.length;
  }
}

interface Series {
  vm: string;
  filter: string;
  firstAt: number;
  samples: Ring<[number, number]>;
}

export type ModelListener = (event: InspectorEvent) => void;

export class InspectorModel {
  private readonly finished: Ring<RequestEnd>;
  private readonly inFlight = new Map<string, RequestStart>();
  private readonly timings = new Map<string, { filter: string; phase: string; samples: Ring<number> }>();
  private readonly memory = new Map<string, Series>();
  private readonly listeners = new Set<ModelListener>();
  private seen = 0;

  constructor(
    readonly limits: ModelLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.finished = new Ring(limits.requests);
  }

  /** The sink for every filter set's events. */
  accept = (event: InspectorEvent): void => {
    switch (event.type) {
      case "request-start":
        this.inFlight.set(event.id, event);
        if (this.inFlight.size > this.limits.inFlight) this.inFlight.delete(this.inFlight.keys().next().value!);
        break;
      case "request-end":
        this.inFlight.delete(event.id);
        this.seen++;
        this.finished.push(event);
        for (const f of event.filters) {
          for (const p of f.phases) if (p.wasmMs >= 0) this.time(f.name, p.phase, p.wasmMs);
        }
        break;
      case "callout": {
        const request = this.finished.values().find((r) => r.id === event.requestId);
        const filter = request?.filters.find((f) => f.name === event.filter);
        const known = filter?.callouts.find((c) => c.cluster === event.callout.cluster && c.path === event.callout.path && c.status === null);
        if (known) Object.assign(known, event.callout, event.callout.error ? {} : { error: undefined });
        break;
      }
      case "memory":
        this.sample(event);
        break;
    }
    for (const listener of this.listeners) listener(event);
  };

  /** Requests finished since the start (the ring keeps the last `limits.requests`). */
  get total(): number {
    return this.seen;
  }

  /** Calls `listener` with every event accepted from now on; returns how to stop. */
  subscribe(listener: ModelListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): Snapshot {
    return {
      requests: this.finished.values(),
      inFlight: [...this.inFlight.values()],
      total: this.seen,
      phases: this.phaseStats(),
      memory: this.memoryStats(),
      leakRule: LEAK_RULE,
    };
  }

  phaseStats(): PhaseStats[] {
    return [...this.timings.values()].map(({ filter, phase, samples }) => {
      const sorted = samples.values().sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
      return { filter, phase, count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
    });
  }

  memoryStats(): VmMemory[] {
    const now = this.now();
    return [...this.memory.values()].map((s) => {
      const samples = s.samples.values();
      const pages = samples.at(-1)?.[1] ?? 0;
      return { vm: s.vm, filter: s.filter, pages, bytes: pages * 65536, samples, leak: leakOf(samples, s.firstAt, now) };
    });
  }

  private time(filter: string, phase: string, ms: number): void {
    const key = `${filter}\u0000${phase}`;
    let t = this.timings.get(key);
    if (!t) this.timings.set(key, (t = { filter, phase, samples: new Ring(this.limits.timings) }));
    t.samples.push(ms);
  }

  private sample(event: MemorySample): void {
    let series = this.memory.get(event.vm);
    if (!series) {
      if (this.memory.size >= this.limits.vms) this.memory.delete(this.memory.keys().next().value!);
      this.memory.set(event.vm, (series = { vm: event.vm, filter: event.filter, firstAt: event.at, samples: new Ring(this.limits.memorySamples) }));
    }
    series.samples.push([event.at, event.pages]);
  }
}

/** LEAK_RULE applied to one VM's samples (oldest first). */
export function leakOf(samples: [number, number][], firstAt: number, now: number): VmMemory["leak"] {
  const from = Math.max(now - LEAK_RULE.windowMs, firstAt + LEAK_RULE.warmupMs);
  let growths = 0;
  let fromPages: number | null = null;
  for (let i = 1; i < samples.length; i++) {
    const [at, pages] = samples[i];
    if (at < from) continue;
    fromPages ??= samples[i - 1][1];
    if (pages > samples[i - 1][1]) growths++;
  }
  if (growths < LEAK_RULE.growths || fromPages === null) return null;
  return { growths, fromPages, toPages: samples[samples.length - 1][1], windowMs: LEAK_RULE.windowMs };
}

// The trace of one exchange, filled in by small hooks in the chain driver (exchange.ts) and the
// filter set (filters.ts): each filter's callbacks with the status Envoy read and the time the
// host operation took, what the filter changed in headers and trailers, body sizes, callouts,
// local replies and VM failures. It goes out through the sink twice: when the request starts and
// when it ends (a callout that answers later goes out on its own).

import type { Header, HttpStream, Plugin, RequestResult } from "../../host/index.js";
import { diffIsEmpty, headerDiff } from "./diff.js";
import {
  clip,
  MAX_CALLOUTS_PER_FILTER,
  MAX_LOGS_PER_FILTER,
  MAX_PHASES_PER_FILTER,
  type CalloutTrace,
  type FilterTrace,
  type InspectorSink,
  type PhaseTrace,
} from "./events.js";

type Dir = "request" | "response";
type Part = "headers" | "body" | "trailers";

export interface TracedFilter {
  name: string;
  version: number;
  plugin: Plugin;
}

/** What went into a filter in one host operation: the headers, body chunk or trailers. */
export interface TracedInput {
  dir: Dir;
  part: Part;
  value: readonly Header[] | Uint8Array;
}

interface PendingCallout {
  token: number;
  trace: CalloutTrace;
  answered: boolean;
}

export class ExchangeTrace {
  private readonly filters: FilterTrace[];
  /** Per filter: how many of its stream's phases are in the trace already. */
  private readonly seen: number[];
  /** Per filter: the headers and trailers it got, until it passes them on. */
  private readonly inputs: Map<string, readonly Header[]>[];
  private readonly callouts: PendingCallout[][];
  private readonly started = performance.now();
  private ended = false;

  constructor(
    readonly id: string,
    private readonly method: string,
    private readonly path: string,
    private readonly chain: TracedFilter[],
    private readonly sink: InspectorSink,
  ) {
    this.filters = chain.map((f) => ({
      name: f.name,
      version: f.version,
      phases: [],
      body: { requestIn: 0, requestOut: 0, responseIn: 0, responseOut: 0 },
      logs: [],
      localReply: null,
      trap: null,
      callouts: [],
      stopped: null,
    }));
    this.seen = chain.map(() => 0);
    this.inputs = chain.map(() => new Map());
    this.callouts = chain.map(() => []);
    sink({ type: "request-start", id, at: Date.now(), method: clip(method), path: clip(path), filters: chain.map((f) => f.name) });
  }

  /** Runs one host operation of filter k (an input, or the end of the stream) and records the callbacks it ran. */
  run(k: number, stream: HttpStream, input: TracedInput | null, operation: () => void): void {
    const plugin = this.chain[k].plugin;
    // Callbacks that ran outside any input (resumed by a callout's answer, by another context): time unknown.
    this.catchUp(k, stream, null);
    const failedBefore = plugin.failure;
    const t0 = performance.now();
    try {
      operation();
    } finally {
      const ms = performance.now() - t0;
      const f = this.filters[k];
      if (input && input.part !== "body") this.inputs[k].set(`${input.dir}_${input.part}`, [...(input.value as readonly Header[])]);
      if (input?.part === "body") f.body[input.dir === "request" ? "requestIn" : "responseIn"] += (input.value as Uint8Array).length;
      const fresh = this.catchUp(k, stream, ms);
      if (input?.part === "body") {
        const phase = fresh.find((p) => p.phase === `${input.dir}_body`);
        if (phase) phase.bytes = (input.value as Uint8Array).length;
      }
      const failure = plugin.failure;
      if (failure !== null && f.trap === null && (failure !== failedBefore || stream.stoppedBy === "vm_failed")) {
        f.trap = { phase: fresh.at(-1)?.phase ?? (input ? `${input.dir}_${input.part}` : "done"), message: clip(failure, 8192) };
      }
    }
  }

  /** What filter k passed on to the next hop. */
  passedOn(k: number, dir: Dir, part: Part, value: readonly Header[] | Uint8Array): void {
    const f = this.filters[k];
    if (part === "body") {
      f.body[dir === "request" ? "requestOut" : "responseOut"] += (value as Uint8Array).length;
      return;
    }
    const phase = `${dir}_${part}`;
    const diff = headerDiff(this.inputs[k].get(phase) ?? [], value as readonly Header[]);
    this.inputs[k].delete(phase);
    if (diffIsEmpty(diff)) return;
    // On the filter's own callback for this part; a local reply's headers have none: a line of their own.
    let entry: PhaseTrace | undefined;
    for (let i = f.phases.length - 1; i >= 0 && !entry; i--) if (f.phases[i].phase === phase && f.phases[i].diff === undefined) entry = f.phases[i];
    if (entry) entry.diff = diff;
    else if (f.phases.length < MAX_PHASES_PER_FILTER) f.phases.push({ phase, wasmMs: -1, diff });
  }

  calloutSent(k: number, token: number, cluster: string, method: string, path: string): void {
    const list = this.callouts[k];
    if (list.length >= MAX_CALLOUTS_PER_FILTER) return;
    list.push({ token, answered: false, trace: { cluster: clip(cluster), method: clip(method), path: clip(path), status: null, ms: 0 } });
  }

  calloutAnswered(k: number, token: number, status: number | null, ms: number, error?: string): void {
    const pending = this.callouts[k].find((c) => c.token === token && !c.answered);
    if (!pending) return;
    pending.answered = true;
    Object.assign(pending.trace, { status, ms: round(ms) }, error ? { error: clip(error) } : {});
    if (this.ended) this.sink({ type: "callout", requestId: this.id, filter: this.filters[k].name, callout: pending.trace });
  }

  /** The exchange is over (on_log/on_done ran): the whole trace goes out. */
  end(
    summary: { status: number | null; endedBy: { filter: string; how: string } | null; error?: string },
    outcomes: { result: RequestResult }[],
    streams: HttpStream[],
  ): void {
    if (this.ended) return;
    this.ended = true;
    outcomes.forEach(({ result }, k) => {
      const f = this.filters[k];
      this.catchUp(k, streams[k], null);
      f.logs = result.logs.slice(0, MAX_LOGS_PER_FILTER).map((l) => ({ level: l.level, message: clip(l.message) }));
      if (result.logs.length > MAX_LOGS_PER_FILTER) f.logs.push({ level: "info", message: `(${result.logs.length - MAX_LOGS_PER_FILTER} more log lines left out)` });
      const reply = result.localResponse;
      if (reply) f.localReply = { status: reply.status, details: clip(reply.details), body: clip(reply.body), headers: reply.headers.slice(0, 50).map(([k, v]) => [clip(k), clip(v)]) };
      if (result.stopped === "local_response" || result.stopped === "vm_failed" || result.stopped === "reset") f.stopped = result.stopped;
      f.callouts = this.callouts[k].map((c) => (c.answered ? c.trace : { ...c.trace, error: "no answer yet when the request ended" }));
    });
    this.sink({
      type: "request-end",
      id: this.id,
      at: Date.now(),
      method: clip(this.method),
      path: clip(this.path),
      status: summary.status,
      durationMs: round(performance.now() - this.started),
      endedBy: summary.endedBy,
      ...(summary.error ? { error: clip(summary.error) } : {}),
      filters: this.filters,
    });
  }

  /** Adds the stream's phases not in the trace yet, sharing `ms` between them (null: not timed). */
  private catchUp(k: number, stream: HttpStream, ms: number | null): PhaseTrace[] {
    const phases = stream.phasesSoFar;
    const fresh = phases.slice(this.seen[k]);
    this.seen[k] = phases.length;
    const f = this.filters[k];
    const added = fresh.map((p): PhaseTrace => ({
      phase: p.phase,
      ...(p.endOfStream === undefined ? {} : { endOfStream: p.endOfStream }),
      ...(p.result === undefined ? {} : { result: p.result }),
      wasmMs: ms === null ? -1 : round(ms / fresh.length),
      ...(ms !== null && fresh.length > 1 ? { shared: true as const } : {}),
    }));
    for (const p of added) if (f.phases.length < MAX_PHASES_PER_FILTER) f.phases.push(p);
    return added;
  }
}

/** Milliseconds to the microsecond. */
const round = (ms: number) => Math.round(ms * 1000) / 1000;

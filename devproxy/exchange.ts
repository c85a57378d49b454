// The filter-chain driver: one HTTP exchange through a chain of filters, as Envoy's filter manager
// runs http_filters:
// request phases go through filter 1..N, then upstream; response phases come back N..1, then to
// the client. Each filter is one HttpStream of its plugin; what filter k passes on (its forwarded
// output) is fed to the next one as it appears, so a pause in filter k holds everything behind
// it until the plugin continues the stream (e.g. when a callout answers). It knows no sockets:
// what comes in and goes out are header lists and byte chunks, so it can run in a worker thread.

import type { Header, HttpStream, Plugin, RequestResult } from "../host/index.js";
import type { ExchangeTrace } from "./inspector/trace.js";

type Dir = "request" | "response";

/** Where the ends of the chain go: the upstream after filter N, the client after filter 1. */
export interface ExchangeEnds {
  upstreamHeaders(headers: Header[], endOfStream: boolean, knownLength: number | null): void;
  upstreamBody(chunk: Uint8Array, endOfStream: boolean): void;
  upstreamTrailers(trailers: Header[]): void;
  /** A filter answered locally or failed: the upstream request is no longer wanted. */
  abortUpstream(): void;
  clientHeaders(headers: Header[], endOfStream: boolean, knownLength: number | null): void;
  clientBody(chunk: Uint8Array, endOfStream: boolean): void;
  clientTrailers(trailers: Header[]): void;
  /** A filter reset the stream (or replied locally after the response had started). */
  reset(filter: string): void;
}

export interface ChainFilter {
  name: string;
  plugin: Plugin;
}

interface Cursor {
  headers: boolean;
  trailers: boolean;
  ended: boolean;
}

const cursor = (): Cursor => ({ headers: false, trailers: false, ended: false });
const EMPTY = new Uint8Array(0);

export interface FilterOutcome {
  filter: string;
  result: RequestResult;
}

export class Exchange {
  readonly streams: HttpStream[];
  private readonly sent: Record<Dir, Cursor[]>;
  /** Index of the filter that ended the exchange locally (local reply, VM failure, reset). */
  private cutAt: number | null = null;
  private pumping = false;
  private again = false;
  private upstreamAborted = false;
  finished = false;
  /** Body bytes into the chain (from the client, from the upstream) and out of it, per direction. */
  private readonly bytesIn: Record<Dir, number> = { request: 0, response: 0 };
  private readonly bytesOut: Record<Dir, number> = { request: 0, response: 0 };
  private builtOutcomes: FilterOutcome[] | null = null;

  constructor(
    readonly filters: ChainFilter[],
    properties: Record<string, string | bigint>,
    private readonly ends: ExchangeEnds,
    /** The inspector's record of this exchange (null: no inspector). */
    readonly trace: ExchangeTrace | null = null,
  ) {
    this.streams = filters.map((f) => f.plugin.newHttpStream(properties));
    this.sent = { request: filters.map(cursor), response: filters.map(cursor) };
  }

  // ---- input from the client (into filter 1) and from the upstream (into filter N) --------

  requestHeaders(headers: Header[], endOfStream: boolean): void {
    this.send(0, "request", "headers", headers, endOfStream);
    this.pump();
  }
  requestBody(chunk: Uint8Array, endOfStream: boolean): void {
    this.bytesIn.request += chunk.length;
    this.send(0, "request", "body", chunk, endOfStream);
    this.pump();
  }
  requestTrailers(trailers: Header[]): void {
    this.send(0, "request", "trailers", trailers, true);
    this.pump();
  }
  responseHeaders(headers: Header[], endOfStream: boolean): void {
    if (this.cutAt !== null) return;
    this.send(this.streams.length - 1, "response", "headers", headers, endOfStream);
    this.pump();
  }
  responseBody(chunk: Uint8Array, endOfStream: boolean): void {
    if (this.cutAt !== null) return;
    this.bytesIn.response += chunk.length;
    this.send(this.streams.length - 1, "response", "body", chunk, endOfStream);
    this.pump();
  }
  responseTrailers(trailers: Header[]): void {
    if (this.cutAt !== null) return;
    this.send(this.streams.length - 1, "response", "trailers", trailers, true);
    this.pump();
  }

  /** Headers, a body chunk or trailers into filter k (through the trace when there is one). */
  private send(k: number, dir: Dir, part: "headers" | "body" | "trailers", value: Header[] | Uint8Array, endOfStream: boolean): void {
    const s = this.streams[k];
    if (this.trace) this.trace.run(k, s, { dir, part, value }, () => deliver(s, dir, part, value, endOfStream));
    else deliver(s, dir, part, value, endOfStream);
  }

  /**
   * Moves whatever the filters passed on to the next hop, until nothing moves. Returns whether
   * anything moved. Safe to call at any time (e.g. after a callout answered); never re-enters.
   */
  pump(): boolean {
    if (this.finished) return false;
    if (this.pumping) {
      this.again = true;
      return true;
    }
    this.pumping = true;
    let moved = false;
    try {
      for (let round = 0; round < 10_000; round++) {
        this.again = false;
        let progress = this.checkStops();
        const n = this.streams.length;
        for (let k = 0; k < n && !this.finished; k++) progress = this.propagate(k, "request") || progress;
        for (let k = n - 1; k >= 0 && !this.finished; k--) {
          if (this.cutAt !== null && k > this.cutAt) continue;
          progress = this.propagate(k, "response") || progress;
        }
        moved ||= progress;
        if ((!progress && !this.again) || this.finished) break;
      }
    } finally {
      this.pumping = false;
    }
    return moved;
  }

  /** Body bytes that went into the chain in one direction and did not come out yet (what filters hold). */
  held(dir: Dir): number {
    return Math.max(0, this.bytesIn[dir] - this.bytesOut[dir]);
  }

  /** The client got the whole response (or went away): on_log/on_done for every filter; then their outcomes. */
  finish(): FilterOutcome[] {
    this.end();
    return this.outcomes;
  }

  /** finish() without the outcomes, which copy what each stream kept: most requests never need them. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    const trace = this.trace;
    for (let i = 0; i < this.streams.length; i++) {
      const s = this.streams[i];
      if (trace) trace.run(i, s, null, () => s.complete());
      else s.complete();
    }
  }

  /** Each filter's result once the exchange finished (built on first use), else none. */
  get outcomes(): FilterOutcome[] {
    if (!this.finished) return [];
    return (this.builtOutcomes ??= this.streams.map((s, i) => ({ filter: this.filters[i].name, result: s.result() })));
  }

  /** The filter that answered or failed, with how: for the request log line. */
  get endedBy(): { filter: string; how: string } | null {
    for (let k = 0; k < this.streams.length; k++) {
      const stopped = this.streams[k].stoppedBy;
      if (stopped === "local_response" || stopped === "vm_failed" || stopped === "reset") return { filter: this.filters[k].name, how: stopped };
    }
    return null;
  }

  private checkStops(): boolean {
    for (let k = 0; k < this.streams.length; k++) {
      if (this.cutAt !== null && k >= this.cutAt) break;
      const stopped = this.streams[k].stoppedBy;
      if (stopped === "local_response" || stopped === "vm_failed" || stopped === "reset") {
        this.cutAt = k;
        if (!this.upstreamAborted) {
          this.upstreamAborted = true;
          this.ends.abortUpstream();
        }
        if (stopped === "reset") {
          this.ends.reset(this.filters[k].name);
          this.finish();
        }
        return true;
      }
    }
    return false;
  }

  private propagate(k: number, dir: Dir): boolean {
    if (dir === "request" && this.cutAt !== null && k >= this.cutAt) return false;
    const stream = this.streams[k];
    // The header maps as passed on, turned into lists once, when they go to the next hop.
    const out = stream.passedOn(dir);
    const c = this.sent[dir][k];
    if (out.headers === null || c.ended) return false;
    // What the filter passed on is taken, not copied: the stream keeps only what it buffers.
    const chunks = stream.takeForwardedBody(dir);
    let progress = false;
    if (!c.headers) {
      c.headers = true;
      let length = 0;
      for (const b of chunks) length += b.length;
      const eos = out.complete && length === 0 && out.trailers === null;
      c.ended = eos;
      progress = true;
      this.hopHeaders(k, dir, out.headers.toArray(), eos, out.complete && out.trailers === null ? length : null);
      if (this.finished) return true;
    }
    for (let i = 0; i < chunks.length; i++) {
      const eos = i === chunks.length - 1 && out.complete && out.trailers === null;
      c.ended ||= eos;
      progress = true;
      this.hopBody(k, dir, chunks[i], eos);
      if (this.finished) return true;
    }
    if (out.complete && out.trailers !== null && !c.trailers) {
      c.trailers = c.ended = true;
      progress = true;
      this.hopTrailers(k, dir, out.trailers.toArray());
    } else if (out.complete && !c.ended) {
      c.ended = true;
      progress = true;
      this.hopBody(k, dir, EMPTY, true);
    }
    return progress;
  }

  // What filter k passed on goes to the next filter, or past the end of the chain.

  private isLast(k: number, dir: Dir): boolean {
    return dir === "request" ? k === this.streams.length - 1 : k === 0;
  }

  private hopHeaders(k: number, dir: Dir, h: Header[], eos: boolean, length: number | null): void {
    this.trace?.passedOn(k, dir, "headers", h);
    if (!this.isLast(k, dir)) return this.send(dir === "request" ? k + 1 : k - 1, dir, "headers", h, eos);
    if (dir === "request") this.ends.upstreamHeaders(h, eos, length);
    else this.ends.clientHeaders(h, eos, length);
  }

  private hopBody(k: number, dir: Dir, b: Uint8Array, eos: boolean): void {
    this.trace?.passedOn(k, dir, "body", b);
    if (!this.isLast(k, dir)) return this.send(dir === "request" ? k + 1 : k - 1, dir, "body", b, eos);
    this.bytesOut[dir] += b.length;
    if (dir === "request") this.ends.upstreamBody(b, eos);
    else this.ends.clientBody(b, eos);
  }

  private hopTrailers(k: number, dir: Dir, t: Header[]): void {
    this.trace?.passedOn(k, dir, "trailers", t);
    if (!this.isLast(k, dir)) return this.send(dir === "request" ? k + 1 : k - 1, dir, "trailers", t, true);
    if (dir === "request") this.ends.upstreamTrailers(t);
    else this.ends.clientTrailers(t);
  }
}

function deliver(s: HttpStream, dir: Dir, part: "headers" | "body" | "trailers", value: Header[] | Uint8Array, endOfStream: boolean): void {
  if (part === "headers") {
    if (dir === "request") s.sendRequestHeaders(value as Header[], endOfStream);
    else s.sendResponseHeaders(value as Header[], endOfStream);
  } else if (part === "body") {
    if (dir === "request") s.sendRequestBody(value as Uint8Array, endOfStream);
    else s.sendResponseBody(value as Uint8Array, endOfStream);
  } else if (dir === "request") s.sendRequestTrailers(value as Header[]);
  else s.sendResponseTrailers(value as Header[]);
}

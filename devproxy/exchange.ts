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
  outcomes: FilterOutcome[] = [];

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
    const deliver = () => {
      if (part === "headers") {
        if (dir === "request") s.sendRequestHeaders(value as Header[], endOfStream);
        else s.sendResponseHeaders(value as Header[], endOfStream);
      } else if (part === "body") {
        if (dir === "request") s.sendRequestBody(value as Uint8Array, endOfStream);
        else s.sendResponseBody(value as Uint8Array, endOfStream);
      } else if (dir === "request") s.sendRequestTrailers(value as Header[]);
      else s.sendResponseTrailers(value as Header[]);
    };
    if (this.trace) this.trace.run(k, s, { dir, part, value }, deliver);
    else deliver();
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

  /** The client got the whole response (or went away): on_log/on_done for every filter. */
  finish(): FilterOutcome[] {
    if (this.finished) return this.outcomes;
    this.finished = true;
    this.outcomes = this.streams.map((s, i) => {
      if (this.trace) this.trace.run(i, s, null, () => s.complete());
      else s.complete();
      return { filter: this.filters[i].name, result: s.result() };
    });
    return this.outcomes;
  }

  /** The filter that answered or failed, with how: for the request log line. */
  get endedBy(): { filter: string; how: string } | null {
    for (let k = 0; k < this.streams.length; k++) {
      const stopped = (this.outcomes[k]?.result ?? this.streams[k].result()).stopped;
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
    const out = stream.forwarded(dir);
    const c = this.sent[dir][k];
    if (out.headers === null || c.ended) return false;
    const last = dir === "request" ? k === this.streams.length - 1 : k === 0;
    const next = dir === "request" ? k + 1 : k - 1;
    const hop = {
      headers: (h: Header[], eos: boolean, len: number | null) => {
        this.trace?.passedOn(k, dir, "headers", h);
        if (!last) return this.send(next, dir, "headers", h, eos);
        return dir === "request" ? this.ends.upstreamHeaders(h, eos, len) : this.ends.clientHeaders(h, eos, len);
      },
      body: (b: Uint8Array, eos: boolean) => {
        this.trace?.passedOn(k, dir, "body", b);
        if (!last) return this.send(next, dir, "body", b, eos);
        this.bytesOut[dir] += b.length;
        return dir === "request" ? this.ends.upstreamBody(b, eos) : this.ends.clientBody(b, eos);
      },
      trailers: (t: Header[]) => {
        this.trace?.passedOn(k, dir, "trailers", t);
        if (!last) return this.send(next, dir, "trailers", t, true);
        return dir === "request" ? this.ends.upstreamTrailers(t) : this.ends.clientTrailers(t);
      },
    };
    // What the filter passed on is taken, not copied: the stream keeps only what it buffers.
    const chunks = stream.takeForwardedBody(dir);
    let progress = false;
    if (!c.headers) {
      c.headers = true;
      const length = chunks.reduce((n, b) => n + b.length, 0);
      const eos = out.complete && length === 0 && out.trailers === null;
      c.ended = eos;
      progress = true;
      hop.headers(out.headers, eos, out.complete && out.trailers === null ? length : null);
      if (this.finished) return true;
    }
    for (let i = 0; i < chunks.length; i++) {
      const eos = i === chunks.length - 1 && out.complete && out.trailers === null;
      c.ended ||= eos;
      progress = true;
      hop.body(chunks[i], eos);
      if (this.finished) return true;
    }
    if (out.complete && out.trailers !== null && !c.trailers) {
      c.trailers = c.ended = true;
      progress = true;
      hop.trailers(out.trailers);
    } else if (out.complete && !c.ended) {
      c.ended = true;
      progress = true;
      hop.body(EMPTY, true);
    }
    return progress;
  }
}

// The upstream client: what the last filter passes on goes to --upstream over HTTP/1.1, streamed
// both ways with backpressure; the response goes into the chain's response side. Failures are
// answered as Envoy's router answers them, through the filters: 503 when the upstream cannot be
// reached, hangs up before answering or the request cannot be encoded, 502 for a protocol error
// (a status outside 100-999, a response that cannot be parsed), 504 when the route timeout passes
// before the response headers (after them, a reset).
// The client is undici's (Node's own fetch runs on it): raw header lists both ways and no stream
// object per request make it about half the cost of node:http's client, which was half of what a
// plain Node proxy spends per request.

import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Header } from "../host/index.js";
import { BAD_PATH, HOP_BY_HOP, invalidHeader, noBodyStatus, pairs, pseudo, upstreamTarget } from "./headers.js";
import type { Logger } from "./log.js";
import { poolFor } from "./upstream-pool.js";

/** Where an upstream's response goes: the response side of the filter chain. */
export interface ResponseSink {
  responseHeaders(headers: Header[], endOfStream: boolean): void;
  responseBody(chunk: Uint8Array, endOfStream: boolean): void;
  responseTrailers(trailers: Header[]): void;
}

/** What the chain sends on to an upstream after the request headers. */
export interface UpstreamHandle {
  /** Returns false when the upstream is not taking more for now; `onDrain` follows. */
  body(chunk: Uint8Array, endOfStream: boolean): boolean;
  trailers(trailers: Header[]): void;
  abort(): void;
}

/** Something that can stop and restart reading (the upstream response, for backpressure). */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface UpstreamRequest {
  headers: Header[];
  endOfStream: boolean;
  knownLength: number | null;
  sink: ResponseSink;
  routeTimeoutMs: number;
  /** Upstream response headers are held to the client's limits too. */
  maxHeaderBytes: number;
  maxHeadersCount: number;
  /** Called after each step, so the proxy moves the chain along. */
  settle(): void;
  /** The upstream takes more request body again. */
  onDrain(): void;
  /** The response body arrives from here: pause it while the client is slow. */
  onResponseSource(source: Pausable): void;
  onError(reason: string): void;
  /** The response had started: the client's connection is cut. */
  reset(reason: string): void;
  log: Logger;
}

const EMPTY = new Uint8Array(0);
/** Methods whose empty body goes upstream without a content-length (any other gets "content-length: 0"). */
const NO_BODY_METHODS = new Set(["GET", "HEAD", "DELETE", "OPTIONS"]);
/** What the request body stream holds before `body()` says the upstream is busy. */
const REQUEST_BODY_HIGH_WATER = 64 * 1024;

const connectError = (reason: string) => `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`;

/** Envoy's answer for a client error: [status, body, what the log says]. */
function failureOf(e: Error, base: string, responded: boolean): [number, string, string] {
  const code = (e as NodeJS.ErrnoException).code ?? e.message;
  // undici's parser errors (HPE_*), too large headers or a body longer or shorter than its
  // content-length are what Envoy's codec calls a protocol error.
  if (code.startsWith("HPE_") || code === "UND_ERR_HEADERS_OVERFLOW" || code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") {
    return [502, connectError("protocol error"), `the upstream sent a response that cannot be parsed (${code})`];
  }
  if (code === "UND_ERR_SOCKET") {
    const how = responded ? "during the response" : "before answering";
    return [503, connectError("connection termination"), `the upstream closed the connection ${how} (${e.message})`];
  }
  return [503, connectError(code), `upstream ${base}: ${code}`];
}

export function realUpstream(base: string, r: UpstreamRequest): UpstreamHandle {
  return new UpstreamCall(base, r).dispatch();
}

/**
 * One request to the upstream: undici's handler, the chain's handle on it and the response's
 * pause switch in one object, so a request costs one allocation here rather than a dozen closures.
 */
class UpstreamCall implements Dispatcher.DispatchHandlers, UpstreamHandle, Pausable {
  private readonly method: string;
  private readonly target: ReturnType<typeof upstreamTarget>;
  /** undici's raw list form (name, value, name, value...): in the chain's order, duplicates kept. */
  private readonly out: string[] = [];
  private aborted = false;
  private responded = false;
  private complete = false;
  private routeTimer: NodeJS.Timeout | null = null;
  /** undici's abort for this request, once it is on a connection. */
  private cancel: ((e?: Error) => void) | null = null;
  /** The request body, pushed as the chain passes it on; undici reads it as the socket drains. */
  private readonly requestBody: Readable | null = null;
  private drainWanted = false;
  // The response body is paused by returning false from onData; undici's resume restarts it.
  private paused = false;
  private resumeResponse: (() => void) | null = null;
  private clen: number | null = null;
  private received = 0;
  private dispatching = true;
  /** undici is done with the request (completed or failed). */
  private settled = false;

  constructor(
    private readonly base: string,
    private readonly r: UpstreamRequest,
  ) {
    const headers = r.headers;
    const method = (this.method = pseudo(headers, ":method") || "GET");
    const target = (this.target = upstreamTarget(base, pseudo(headers, ":path") || "/"));
    const authority = pseudo(headers, ":authority");
    const out = this.out;
    let declared: string | undefined;
    for (const [name, v] of headers) {
      if (name.startsWith(":")) continue;
      const k = name.toLowerCase();
      if (k === "content-length") declared ??= v;
      if (HOP_BY_HOP.has(k) || (authority && k === "x-forwarded-host")) continue;
      out.push(k, v);
    }
    out.push("host", target.host);
    if (authority) out.push("x-forwarded-host", authority);
    let length: string | null = null;
    if (declared !== undefined && /^\d+$/.test(declared)) length = declared;
    else if (r.knownLength !== null && (r.knownLength > 0 || !NO_BODY_METHODS.has(method))) length = String(r.knownLength);
    if (length !== null) out.push("content-length", length);
    if (!r.endOfStream) {
      this.requestBody = new Readable({
        highWaterMark: REQUEST_BODY_HIGH_WATER,
        read: () => {
          if (!this.drainWanted) return;
          this.drainWanted = false;
          r.onDrain();
        },
      });
      // Its errors reach the handler's onError as the request's.
      this.requestBody.on("error", () => undefined);
    }
  }

  dispatch(): this {
    poolFor(this.target.origin, this.r.maxHeaderBytes).dispatch(
      { path: this.target.path, method: this.method as Dispatcher.HttpMethod, headers: this.out, body: this.requestBody },
      this,
    );
    this.dispatching = false;
    if (this.r.endOfStream) this.startRouteTimer();
    return this;
  }

  private done(): void {
    this.complete = true;
    if (this.routeTimer) clearTimeout(this.routeTimer);
  }

  /** Envoy's router sendLocalReply: through the filters, unless the response already started. */
  private fail(status: number, body: string, reason: string): void {
    if (this.aborted || this.complete) return;
    this.done();
    this.cancel?.();
    this.requestBody?.destroy();
    const r = this.r;
    r.onError(reason);
    r.log.error(`upstream ${this.target.host}${this.target.path}: ${reason}`);
    if (this.responded) return r.reset(reason);
    const bytes = new TextEncoder().encode(body);
    r.sink.responseHeaders([[":status", String(status)], ["content-type", "text/plain"], ["content-length", String(bytes.length)]], false);
    r.sink.responseBody(bytes, true);
    r.settle();
  }

  private refused(body: string, reason: string): void {
    setImmediate(() => this.fail(503, body, `the request cannot go upstream: ${reason}`));
  }

  private startRouteTimer(): void {
    if (this.r.routeTimeoutMs <= 0 || this.routeTimer) return;
    this.routeTimer = setTimeout(routeTimedOut, this.r.routeTimeoutMs, this);
  }

  routeTimeout(): void {
    this.fail(504, "upstream request timeout", `route timeout (${this.r.routeTimeoutMs} ms) passed before the upstream ${this.responded ? "finished the response" : "answered"} (--route-timeout)`);
  }

  private endRequest(): void {
    this.requestBody?.push(null);
    this.startRouteTimer();
  }

  // ---- undici's handler -------------------------------------------------------------------

  onConnect(abort: (e?: Error) => void): void {
    if (this.aborted || this.complete) abort();
    else this.cancel = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (this.aborted || this.complete) return false;
    if (status >= 100 && status < 200) return true; // 1xx: the final response follows
    const r = this.r;
    if (status < 100 || status > 999) {
      this.fail(502, connectError("protocol error"), `the upstream sent an invalid status ${status} (Envoy: a protocol error, 502)`);
      return false;
    }
    if (raw.length / 2 > r.maxHeadersCount) {
      this.fail(502, connectError("protocol error"), `the upstream sent more than ${r.maxHeadersCount} response headers (Envoy: a protocol error, 502)`);
      return false;
    }
    this.responded = true;
    this.resumeResponse = resume;
    r.onResponseSource(this);
    const response: Header[] = [[":status", String(status)]];
    let chunked = false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i].toString("latin1").toLowerCase();
      const v = raw[i + 1].toString("latin1");
      if (k === "content-length") this.clen = Number(v);
      else if (k === "transfer-encoding") chunked = true;
      if (!HOP_BY_HOP.has(k) || k === "content-length") response.push([k, v]);
    }
    const noBody = this.method === "HEAD" || noBodyStatus(status) || (this.clen === 0 && !chunked);
    if (noBody) this.done();
    r.sink.responseHeaders(response, noBody);
    r.settle();
    return !this.paused;
  }

  onData(chunk: Buffer): boolean {
    if (this.aborted || this.complete) return true;
    this.received += chunk.length;
    const ended = this.clen !== null && this.received >= this.clen;
    if (ended) this.done();
    this.r.sink.responseBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
    this.r.settle();
    // The last chunk never pauses: undici still has to finish the message and free the connection.
    return ended || !this.paused;
  }

  onComplete(rawTrailers: string[] | null): void {
    this.settled = true;
    if (this.aborted || this.complete) return;
    this.done();
    const trailers = pairs((rawTrailers ?? []) as unknown as Buffer[]);
    if (trailers.length > 0) this.r.sink.responseTrailers(trailers);
    else this.r.sink.responseBody(EMPTY, true);
    this.r.settle();
  }

  onError(e: Error): void {
    this.settled = true;
    if (!this.dispatching) return this.fail(...failureOf(e, this.base, this.responded));
    // undici refused the request before it returned (it checks what Node's writer checks, as
    // Envoy's HTTP/1 encoder does); the router answers 503 with Envoy's wording of the reason.
    const invalid = invalidHeader(this.r.headers) ?? (BAD_PATH.test(this.target.path) ? "invalid header value for: :path" : null);
    if (invalid) this.refused(invalid, `${invalid} (a filter set it)`);
    else this.refused(e.message, e.message);
  }

  // ---- the response's pause switch (Pausable), for the client's backpressure ----------------

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumeResponse?.();
  }

  // ---- the chain's handle (UpstreamHandle) --------------------------------------------------

  body(chunk: Uint8Array, end: boolean): boolean {
    if (this.aborted || this.complete || !this.requestBody) return true;
    let more = true;
    if (chunk.length > 0) more = this.requestBody.push(chunk);
    if (!more) this.drainWanted = true;
    if (end) this.endRequest();
    return more;
  }

  // Envoy's HTTP/1 codec drops trailers unless enable_trailers is set (it is not by default):
  // the body ends without them.
  trailers(): void {
    if (this.aborted || this.complete) return;
    this.endRequest();
  }

  abort(): void {
    this.aborted = true;
    if (this.routeTimer) clearTimeout(this.routeTimer);
    // An exchange that went all the way leaves the connection to the pool, to be used again.
    if (!this.complete) this.cancel?.();
    else if (!this.settled && this.paused) this.resumeResponse?.();
    if (this.requestBody && !this.requestBody.readableEnded) this.requestBody.destroy();
  }
}

/** The route timer's callback: a plain function and an argument, no closure per request. */
function routeTimedOut(call: UpstreamCall): void {
  call.routeTimeout();
}

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
  const { headers, sink } = r;
  const method = pseudo(headers, ":method") || "GET";
  const target = upstreamTarget(base, pseudo(headers, ":path") || "/");
  let aborted = false;
  let responded = false;
  let complete = false;
  let routeTimer: NodeJS.Timeout | null = null;
  /** undici's abort for this request, once it is on a connection. */
  let cancel: ((e?: Error) => void) | null = null;
  let requestBody: Readable | null = null;
  const done = () => {
    complete = true;
    if (routeTimer) clearTimeout(routeTimer);
  };
  /** Envoy's router sendLocalReply: through the filters, unless the response already started. */
  const fail = (status: number, body: string, reason: string) => {
    if (aborted || complete) return;
    done();
    cancel?.();
    requestBody?.destroy();
    r.onError(reason);
    r.log.error(`upstream ${target.host}${target.path}: ${reason}`);
    if (responded) return r.reset(reason);
    const bytes = new TextEncoder().encode(body);
    sink.responseHeaders([[":status", String(status)], ["content-type", "text/plain"], ["content-length", String(bytes.length)]], false);
    sink.responseBody(bytes, true);
    r.settle();
  };
  const refused = (body: string, reason: string): UpstreamHandle => {
    setImmediate(() => fail(503, body, `the request cannot go upstream: ${reason}`));
    return { body: () => true, trailers: () => undefined, abort: () => void (aborted = true) };
  };

  // undici's raw list form (name, value, name, value...): in the chain's order, duplicates kept.
  const authority = pseudo(headers, ":authority");
  const out: string[] = [];
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

  const startRouteTimer = () => {
    if (r.routeTimeoutMs <= 0 || routeTimer) return;
    routeTimer = setTimeout(
      () => fail(504, "upstream request timeout", `route timeout (${r.routeTimeoutMs} ms) passed before the upstream ${responded ? "finished the response" : "answered"} (--route-timeout)`),
      r.routeTimeoutMs,
    );
  };

  // The request body, pushed as the chain passes it on; undici reads it as the socket drains.
  let drainWanted = false;
  if (!r.endOfStream) {
    requestBody = new Readable({
      highWaterMark: REQUEST_BODY_HIGH_WATER,
      read: () => {
        if (!drainWanted) return;
        drainWanted = false;
        r.onDrain();
      },
    });
    // Its errors reach the handler's onError as the request's.
    requestBody.on("error", () => undefined);
  }
  const endRequest = () => {
    requestBody?.push(null);
    startRouteTimer();
  };

  // The response body is paused by returning false from onData; undici's resume restarts it.
  let paused = false;
  let resumeResponse: (() => void) | null = null;
  let clen: number | null = null;
  let received = 0;
  let dispatching = true;
  /** undici is done with the request (completed or failed). */
  let settled = false;
  const handler: Dispatcher.DispatchHandlers = {
    onConnect: (abort) => {
      if (aborted || complete) abort();
      else cancel = abort;
    },
    onHeaders: (status, raw, resume) => {
      if (aborted || complete) return false;
      if (status >= 100 && status < 200) return true; // 1xx: the final response follows
      if (status < 100 || status > 999) {
        fail(502, connectError("protocol error"), `the upstream sent an invalid status ${status} (Envoy: a protocol error, 502)`);
        return false;
      }
      if (raw.length / 2 > r.maxHeadersCount) {
        fail(502, connectError("protocol error"), `the upstream sent more than ${r.maxHeadersCount} response headers (Envoy: a protocol error, 502)`);
        return false;
      }
      responded = true;
      resumeResponse = resume;
      r.onResponseSource({
        pause: () => void (paused = true),
        resume: () => {
          paused = false;
          resumeResponse?.();
        },
      });
      const response: Header[] = [[":status", String(status)]];
      let chunked = false;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const k = raw[i].toString("latin1").toLowerCase();
        const v = raw[i + 1].toString("latin1");
        if (k === "content-length") clen = Number(v);
        else if (k === "transfer-encoding") chunked = true;
        if (!HOP_BY_HOP.has(k) || k === "content-length") response.push([k, v]);
      }
      const noBody = method === "HEAD" || noBodyStatus(status) || (clen === 0 && !chunked);
      if (noBody) done();
      sink.responseHeaders(response, noBody);
      r.settle();
      return !paused;
    },
    onData: (chunk) => {
      if (aborted || complete) return true;
      received += chunk.length;
      const ended = clen !== null && received >= clen;
      if (ended) done();
      sink.responseBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
      r.settle();
      // The last chunk never pauses: undici still has to finish the message and free the connection.
      return ended || !paused;
    },
    onComplete: (rawTrailers) => {
      settled = true;
      if (aborted || complete) return;
      done();
      const trailers = pairs((rawTrailers ?? []) as unknown as Buffer[]);
      if (trailers.length > 0) sink.responseTrailers(trailers);
      else sink.responseBody(EMPTY, true);
      r.settle();
    },
    onError: (e) => {
      settled = true;
      if (!dispatching) return fail(...failureOf(e, base, responded));
      // undici refused the request before it returned (it checks what Node's writer checks, as
      // Envoy's HTTP/1 encoder does); the router answers 503 with Envoy's wording of the reason.
      const invalid = invalidHeader(headers) ?? (BAD_PATH.test(target.path) ? "invalid header value for: :path" : null);
      if (invalid) refused(invalid, `${invalid} (a filter set it)`);
      else refused(e.message, e.message);
    },
  };
  poolFor(target.origin, r.maxHeaderBytes).dispatch(
    { path: target.path, method: method as Dispatcher.HttpMethod, headers: out, body: requestBody },
    handler,
  );
  dispatching = false;
  if (r.endOfStream) startRouteTimer();
  return {
    body: (chunk, end) => {
      if (aborted || complete || !requestBody) return true;
      let more = true;
      if (chunk.length > 0) more = requestBody.push(chunk);
      if (!more) drainWanted = true;
      if (end) endRequest();
      return more;
    },
    // Envoy's HTTP/1 codec drops trailers unless enable_trailers is set (it is not by default):
    // the body ends without them.
    trailers: () => {
      if (aborted || complete) return;
      endRequest();
    },
    abort: () => {
      aborted = true;
      if (routeTimer) clearTimeout(routeTimer);
      // An exchange that went all the way leaves the connection to the pool, to be used again.
      if (!complete) cancel?.();
      else if (!settled && paused) resumeResponse?.();
      if (requestBody && !requestBody.readableEnded) requestBody.destroy();
    },
  };
}

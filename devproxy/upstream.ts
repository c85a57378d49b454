// The upstream client: what the last filter passes on goes to --upstream over HTTP/1.1, streamed
// both ways with backpressure; the response goes into the chain's response side. Failures are
// answered as Envoy's router answers them, through the filters: 503 when the upstream cannot be
// reached or the request cannot be encoded, 502 for a protocol error (a status outside 100-999,
// a response Node cannot parse), 504 when the route timeout passes before the response headers
// (after them, a reset).

import http from "node:http";
import type { Header } from "../host/index.js";
import { BAD_PATH, HOP_BY_HOP, invalidHeader, noBodyStatus, pairs, upstreamTarget } from "./headers.js";
import type { Logger } from "./log.js";

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

/** A pseudo-header's value ("" when absent). */
function pseudo(headers: Header[], name: string): string {
  for (const [k, v] of headers) if (k === name) return v;
  return "";
}

export function realUpstream(base: string, r: UpstreamRequest): UpstreamHandle {
  const { headers, sink } = r;
  const method = pseudo(headers, ":method") || "GET";
  const target = upstreamTarget(base, pseudo(headers, ":path") || "/");
  let aborted = false;
  let responded = false;
  let complete = false;
  let routeTimer: NodeJS.Timeout | null = null;
  const done = () => {
    complete = true;
    if (routeTimer) clearTimeout(routeTimer);
  };
  /** Envoy's router sendLocalReply: through the filters, unless the response already started. */
  const fail = (status: number, body: string, reason: string) => {
    if (aborted || complete) return;
    done();
    request?.destroy();
    r.onError(reason);
    r.log.error(`upstream ${target.host}${target.path}: ${reason}`);
    if (responded) return r.reset(reason);
    const bytes = new TextEncoder().encode(body);
    sink.responseHeaders([[":status", String(status)], ["content-type", "text/plain"], ["content-length", String(bytes.length)]], false);
    sink.responseBody(bytes, true);
    r.settle();
  };
  const connectError = (reason: string) => `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`;

  // Node's raw list form (name, value, name, value...): in the chain's order, duplicates kept,
  // and no object with a key per header to build for every request.
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

  // Envoy's HTTP/1 encoder refuses what it cannot write; the router answers 503 with the reason.
  const invalid = invalidHeader(headers) ?? (BAD_PATH.test(target.path) ? "invalid header value for: :path" : null);
  let request: http.ClientRequest | null = null;
  if (invalid) {
    setImmediate(() => fail(503, invalid, `the request cannot go upstream: ${invalid} (a filter set it)`));
    return { body: () => true, trailers: () => undefined, abort: () => void (aborted = true) };
  }

  const startRouteTimer = () => {
    if (r.routeTimeoutMs <= 0 || routeTimer) return;
    routeTimer = setTimeout(
      () => fail(504, "upstream request timeout", `route timeout (${r.routeTimeoutMs} ms) passed before the upstream ${responded ? "finished the response" : "answered"} (--route-timeout)`),
      r.routeTimeoutMs,
    );
  };

  try {
    request = http.request(
      { hostname: target.hostname, port: target.port, path: target.path, method, headers: out, maxHeaderSize: r.maxHeaderBytes },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 100 || status > 999) {
          return fail(502, connectError("protocol error"), `the upstream sent an invalid status ${status} (Envoy: a protocol error, 502)`);
        }
        if (res.rawHeaders.length / 2 > r.maxHeadersCount) {
          return fail(502, connectError("protocol error"), `the upstream sent more than ${r.maxHeadersCount} response headers (Envoy: a protocol error, 502)`);
        }
        responded = true;
        r.onResponseSource(res);
        const response: Header[] = [[":status", String(status)]];
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const k = raw[i].toLowerCase();
          if (!HOP_BY_HOP.has(k) || k === "content-length") response.push([k, raw[i + 1]]);
        }
        const clen = res.headers["content-length"] !== undefined ? Number(res.headers["content-length"]) : null;
        const noBody = method === "HEAD" || noBodyStatus(status) || (clen === 0 && res.headers["transfer-encoding"] === undefined);
        sink.responseHeaders(response, noBody);
        r.settle();
        if (noBody) {
          done();
          res.resume();
          return;
        }
        let received = 0;
        let ended = false;
        res.on("data", (chunk: Buffer) => {
          if (aborted || ended) return;
          received += chunk.length;
          ended = clen !== null && received >= clen;
          if (ended) done();
          sink.responseBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
          r.settle();
        });
        res.on("end", () => {
          if (aborted || ended) return;
          ended = true;
          done();
          const trailers = pairs(res.rawTrailers);
          if (trailers.length > 0) sink.responseTrailers(trailers);
          else sink.responseBody(EMPTY, true);
          r.settle();
        });
        res.on("error", (e) => fail(502, connectError("protocol error"), `the upstream response broke off: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
        res.on("close", () => {
          if (!ended && !aborted) fail(502, connectError("connection termination"), "the upstream closed the connection during the response");
        });
      },
    );
  } catch (e) {
    const reason = (e as Error).message;
    setImmediate(() => fail(503, reason, `the request cannot go upstream: ${reason}`));
    return { body: () => true, trailers: () => undefined, abort: () => void (aborted = true) };
  }
  const req = request;
  // Node keeps at most maxHeadersCount response headers and drops the rest: one more tells us.
  req.maxHeadersCount = r.maxHeadersCount + 1;
  req.on("error", (e) => {
    const code = (e as NodeJS.ErrnoException).code ?? e.message;
    // Node's parser errors (HPE_*) are what Envoy's codec calls a protocol error.
    if (code.startsWith("HPE_")) fail(502, connectError("protocol error"), `the upstream sent a response that cannot be parsed (${code})`);
    else fail(503, connectError(code), `upstream ${base}: ${code}`);
  });
  req.on("drain", () => r.onDrain());
  if (r.endOfStream) {
    req.end();
    startRouteTimer();
  }
  return {
    body: (chunk, end) => {
      if (aborted || complete) return true;
      let more = true;
      try {
        if (chunk.length > 0) more = req.write(chunk);
        if (end) {
          req.end();
          startRouteTimer();
        }
      } catch (e) {
        // e.g. a filter changed the request body but not its content-length
        req.destroy(e as Error);
      }
      return more;
    },
    trailers: (trailers) => {
      if (aborted || complete) return;
      if (trailers.length > 0 && length === null && invalidHeader(trailers) === null) req.addTrailers(Object.fromEntries(trailers));
      req.end();
      startRouteTimer();
    },
    abort: () => {
      aborted = true;
      if (routeTimer) clearTimeout(routeTimer);
      // An exchange that went all the way leaves the connection to the agent, to be used again.
      if (!(complete && req.writableFinished)) req.destroy();
    },
  };
}

// One request through the dev proxy: the client's request goes into the filter chain, what the
// last filter passes on goes to the upstream, the upstream's response comes back through the
// chain, and what the first filter passes on goes to the client. Then one log line.
// Bodies stream: a side stops reading while the filters hold more than twice the buffer limit
// or the other side is not taking more (Envoy's watermarks), so memory stays proportional to
// what the filters buffer.

import type http from "node:http";
import type { Socket } from "node:net";
import { echoUpstream } from "./echo.js";
import { Exchange, type ExchangeEnds } from "./exchange.js";
import type { FilterSet } from "./filters.js";
import { pairs } from "./headers.js";
import { requestHead, type Limits } from "./intake.js";
import type { Logger, LogLine } from "./log.js";
import type { Recorder } from "./record/recorder.js";
import { ClientReply } from "./reply.js";
import { realUpstream, type Pausable, type UpstreamHandle, type UpstreamRequest } from "./upstream.js";

export interface RequestContext {
  filters: FilterSet;
  log: Logger;
  /** --upstream, or null for the echo upstream. */
  upstream: string | null;
  /** run --record: every exchange goes to the recording. */
  recorder?: Recorder | null;
  limits: Limits;
  /** The proxy's own authority, for a request without Host. */
  authority: string;
  counted(status: number | null): void;
}

const EMPTY = new Uint8Array(0);

/** A connection's addresses as stream properties: built once per connection, not per request. */
const connectionProperties = new WeakMap<Socket, Record<string, string | bigint>>();

function propertiesOf(socket: Socket): Record<string, string | bigint> {
  let properties = connectionProperties.get(socket);
  if (!properties) {
    properties = {
      "source.address": `${socket.remoteAddress}:${socket.remotePort}`,
      "source.port": BigInt(socket.remotePort ?? 0),
      "destination.address": `${socket.localAddress}:${socket.localPort}`,
      "destination.port": BigInt(socket.localPort ?? 0),
    };
    connectionProperties.set(socket, properties);
  }
  return properties;
}

/** Stops a source while the chain holds too much or the far side is busy; restarts it when both clear. */
class Valve {
  private source: Pausable | null = null;
  private sinkBusy = false;
  private paused = false;

  constructor(
    private readonly held: () => number,
    private readonly max: number,
  ) {}

  attach(source: Pausable): void {
    this.source = source;
    this.check();
  }

  busy(busy: boolean): void {
    this.sinkBusy = busy;
    this.check();
  }

  check(): void {
    const stop = this.sinkBusy || this.held() > this.max;
    if (stop === this.paused || !this.source) return;
    this.paused = stop;
    if (stop) this.source.pause();
    else this.source.resume();
  }
}

export function serveRequest(ctx: RequestContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const started = performance.now();
  const chain = ctx.filters.acquireChain();
  const method = req.method ?? "GET";
  const path = req.url ?? "/";
  let error: string | undefined;
  let done = false;
  let received = 0;
  let ended = false;
  let upstream: UpstreamHandle | null = null;
  const watermark = 2 * ctx.limits.bufferLimitBytes;
  const requestValve = new Valve(() => exchange.held("request"), watermark);
  const responseValve = new Valve(() => exchange.held("response"), watermark);

  const finish = (why?: string) => {
    if (done) return;
    done = true;
    error ??= why;
    ctx.filters.exchanges.delete(tracked);
    upstream?.abort();
    if (!ended) {
      // Answered before the request was read: read the rest and drop it (the client gets its
      // answer instead of a reset), for a while.
      req.resume();
      const cut = setTimeout(() => req.socket.destroy(), 5000).unref();
      req.once("end", () => clearTimeout(cut));
    }
    exchange.end();
    ctx.filters.release(chain);
    ctx.counted(reply.status);
    // The outcomes (copies of what each stream kept) are built only for a local reply, the
    // inspector, a recording or a request that gets its log line.
    if (exchange.streams.some((s) => s.stoppedBy === "local_response")) {
      for (const o of exchange.outcomes) {
        const details = o.result.localResponse?.details;
        if (details === "request_payload_too_large" || details === "response_payload_too_large") {
          error ??= `${details}: ${o.filter} buffered more than the buffer limit of ${ctx.limits.bufferLimitBytes} bytes (Envoy's per_connection_buffer_limit_bytes; --buffer-limit)`;
        }
      }
    }
    exchange.trace?.end({ status: reply.status, endedBy: exchange.endedBy, error }, exchange.outcomes, exchange.streams);
    ctx.filters.sampleMemory();
    if (capture) ctx.recorder?.record(capture.finish(0, exchange.outcomes, reply.status, exchange.endedBy, error));
    if (ctx.log.wantsRequest()) logRequest(exchange.outcomes);
    ctx.filters.settle(exchange);
  };
  const logRequest = (outcomes: ReturnType<Exchange["finish"]>) => {
    const logs: LogLine[] = outcomes.flatMap((o) => o.result.logs.map((e) => ({ filter: o.filter, ...e })));
    ctx.log.request({
      method,
      path,
      status: reply.status,
      durationMs: Math.round(performance.now() - started),
      endedBy: exchange.endedBy,
      filters: outcomes.map((o) => ({ name: o.filter, phases: o.result.phases })),
      logs,
      ...(error ? { error } : {}),
    });
  };
  const reply = new ClientReply(res, method, finish, (busy) => responseValve.busy(busy));

  const properties = propertiesOf(req.socket);
  const capture =
    ctx.recorder?.begin(
      chain.map((l) => l.plugin),
      { source: properties["source.address"] as string, destination: properties["destination.address"] as string },
    ) ?? null;
  const plainEnds: ExchangeEnds = {
    upstreamHeaders: (headers, eos, knownLength) => {
      const request: UpstreamRequest = {
        headers,
        endOfStream: eos,
        knownLength,
        sink: input,
        routeTimeoutMs: ctx.limits.routeTimeoutMs,
        maxHeaderBytes: ctx.limits.maxRequestHeadersKb * 1024,
        maxHeadersCount: ctx.limits.maxHeadersCount,
        settle: () => ctx.filters.settle(exchange),
        onDrain: () => requestValve.busy(false),
        onResponseSource: (source) => responseValve.attach(source),
        onError: (e) => (error ??= e),
        reset: (reason) => reply.reset(reason),
        log: ctx.log,
      };
      upstream = ctx.upstream ? realUpstream(ctx.upstream, request) : echoUpstream(request);
    },
    upstreamBody: (chunk, eos) => {
      if (upstream && !upstream.body(chunk, eos)) requestValve.busy(true);
      requestValve.check();
    },
    upstreamTrailers: (trailers) => upstream?.trailers(trailers),
    abortUpstream: () => upstream?.abort(),
    clientHeaders: (headers, eos, knownLength) => reply.headers(headers, eos, knownLength),
    clientBody: (chunk, eos) => {
      reply.body(chunk, eos);
      responseValve.check();
    },
    clientTrailers: (trailers) => reply.trailers(trailers),
    reset: (filter) => reply.reset(`stream reset by ${filter}`),
  };
  const ends = capture ? capture.ends(plainEnds) : plainEnds;

  const exchange = new Exchange(
    chain.map((l) => ({ name: l.slot.name, plugin: l.plugin })),
    properties,
    ends,
    ctx.filters.trace(chain, method, path),
  );
  const tracked = ctx.filters.track(exchange);
  // What comes into the chain, from the client and from the upstream (recorded on the way in).
  const input = capture ? capture.input(exchange) : exchange;

  res.on("close", () => finish(reply.started ? "client closed the connection during the response" : "client went away"));

  const head = requestHead(req, ctx.authority);
  const length = head.contentLength !== null ? Number(head.contentLength) : null;
  const chunked = head.chunked;
  const noBody = !chunked && (length === null || length === 0);
  ended = noBody;
  input.requestHeaders(head.headers, noBody);
  ctx.filters.settle(exchange);
  if (noBody) {
    req.resume();
    return;
  }
  req.on("data", (chunk: Buffer) => {
    if (done || ended) return;
    received += chunk.length;
    ended = !chunked && length !== null && received >= length;
    input.requestBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
    ctx.filters.settle(exchange);
    requestValve.check();
  });
  req.on("end", () => {
    if (done || ended) return;
    ended = true;
    const trailers = pairs(req.rawTrailers);
    if (trailers.length > 0) input.requestTrailers(trailers);
    else input.requestBody(EMPTY, true);
    ctx.filters.settle(exchange);
  });
  requestValve.attach(req);
}

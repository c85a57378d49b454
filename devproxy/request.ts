// One request through the dev proxy: the client's request goes into the filter chain, what the
// last filter passes on goes to the upstream, the upstream's response comes back through the
// chain, and what the first filter passes on goes to the client. Then one log line.
// Bodies stream: a side stops reading while the filters hold more than twice the buffer limit
// or the other side is not taking more (Envoy's watermarks), so memory stays proportional to
// what the filters buffer.

import type http from "node:http";
import type { Socket } from "node:net";
import type { Header } from "../host/index.js";
import { echoUpstream } from "./echo.js";
import { Exchange, type ExchangeEnds } from "./exchange.js";
import type { FilterSet, Loaded } from "./filters.js";
import { pairs } from "./headers.js";
import { requestHead, type Limits } from "./intake.js";
import type { Logger, LogLine } from "./log.js";
import type { ExchangeCapture } from "./record/capture.js";
import type { Recorder } from "./record/recorder.js";
import { ClientReply, type ReplyOwner } from "./reply.js";
import { realUpstream, type Pausable, type ResponseSink, type UpstreamHandle, type UpstreamRequest } from "./upstream.js";

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
    private readonly exchange: Exchange,
    private readonly dir: "request" | "response",
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
    const stop = this.sinkBusy || this.exchange.held(this.dir) > this.max;
    if (stop === this.paused || !this.source) return;
    this.paused = stop;
    if (stop) this.source.pause();
    else this.source.resume();
  }
}

export function serveRequest(ctx: RequestContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  new ProxiedRequest(ctx, req, res).start();
}

/**
 * One request and its exchange: the chain's two ends (ExchangeEnds) and the reply's owner, as
 * one object with methods rather than a closure for each (a request allocated some thirty).
 */
class ProxiedRequest implements ExchangeEnds, ReplyOwner {
  private readonly started = performance.now();
  private readonly chain: Loaded[];
  private readonly method: string;
  private readonly path: string;
  error: string | undefined = undefined;
  private done = false;
  private received = 0;
  private ended = false;
  private upstream: UpstreamHandle | null = null;
  readonly reply: ClientReply;
  private readonly capture: ExchangeCapture | null;
  private readonly exchange: Exchange;
  private readonly tracked: number;
  /** What comes into the chain, from the client and from the upstream (recorded on the way in). */
  private readonly input: Exchange | ReturnType<ExchangeCapture["input"]>;
  readonly requestValve: Valve;
  readonly responseValve: Valve;

  constructor(
    private readonly ctx: RequestContext,
    private readonly req: http.IncomingMessage,
    res: http.ServerResponse,
  ) {
    const chain = (this.chain = ctx.filters.acquireChain());
    const method = (this.method = req.method ?? "GET");
    const path = (this.path = req.url ?? "/");
    this.reply = new ClientReply(res, method, this);
    const properties = propertiesOf(req.socket);
    const capture = (this.capture =
      ctx.recorder?.begin(
        chain.map((l) => l.plugin),
        { source: properties["source.address"] as string, destination: properties["destination.address"] as string },
      ) ?? null);
    const exchange = (this.exchange = new Exchange(
      chain.map((l) => ({ name: l.slot.name, plugin: l.plugin })),
      properties,
      capture ? capture.ends(this) : this,
      ctx.filters.trace(chain, method, path),
    ));
    const watermark = 2 * ctx.limits.bufferLimitBytes;
    this.requestValve = new Valve(exchange, "request", watermark);
    this.responseValve = new Valve(exchange, "response", watermark);
    this.tracked = ctx.filters.track(exchange);
    this.input = capture ? capture.input(exchange) : exchange;
    res.on("close", () => this.finish(this.reply.started ? "client closed the connection during the response" : "client went away"));
  }

  start(): void {
    const { ctx, req, input, exchange } = this;
    const head = requestHead(req, ctx.authority);
    const length = head.contentLength !== null ? Number(head.contentLength) : null;
    const chunked = head.chunked;
    const noBody = !chunked && (length === null || length === 0);
    this.ended = noBody;
    input.requestHeaders(head.headers, noBody);
    ctx.filters.settle(exchange);
    if (noBody) {
      req.resume();
      return;
    }
    req.on("data", (chunk: Buffer) => {
      if (this.done || this.ended) return;
      this.received += chunk.length;
      this.ended = !chunked && length !== null && this.received >= length;
      input.requestBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), this.ended);
      ctx.filters.settle(exchange);
      this.requestValve.check();
    });
    req.on("end", () => {
      if (this.done || this.ended) return;
      this.ended = true;
      const trailers = pairs(req.rawTrailers);
      if (trailers.length > 0) input.requestTrailers(trailers);
      else input.requestBody(EMPTY, true);
      ctx.filters.settle(exchange);
    });
    this.requestValve.attach(req);
  }

  private finish(why?: string): void {
    if (this.done) return;
    this.done = true;
    this.error ??= why;
    const { ctx, req, exchange, reply } = this;
    ctx.filters.exchanges.delete(this.tracked);
    this.upstream?.abort();
    if (!this.ended) {
      // Answered before the request was read: read the rest and drop it (the client gets its
      // answer instead of a reset), for a while.
      req.resume();
      const cut = setTimeout(() => req.socket.destroy(), 5000).unref();
      req.once("end", () => clearTimeout(cut));
    }
    exchange.end();
    ctx.filters.release(this.chain);
    ctx.counted(reply.status);
    // The outcomes (copies of what each stream kept) are built only for a local reply, the
    // inspector, a recording or a request that gets its log line.
    if (exchange.streams.some((s) => s.stoppedBy === "local_response")) {
      for (const o of exchange.outcomes) {
        const details = o.result.localResponse?.details;
        if (details === "request_payload_too_large" || details === "response_payload_too_large") {
          this.error ??= `${details}: ${o.filter} buffered more than the buffer limit of ${ctx.limits.bufferLimitBytes} bytes (Envoy's per_connection_buffer_limit_bytes; --buffer-limit)`;
        }
      }
    }
    exchange.trace?.end({ status: reply.status, endedBy: exchange.endedBy, error: this.error }, exchange.outcomes, exchange.streams);
    ctx.filters.sampleMemory();
    if (this.capture) ctx.recorder?.record(this.capture.finish(0, exchange.outcomes, reply.status, exchange.endedBy, this.error));
    if (ctx.log.wantsRequest()) this.logRequest(exchange.outcomes);
    ctx.filters.settle(exchange);
  }

  private logRequest(outcomes: ReturnType<Exchange["finish"]>): void {
    const logs: LogLine[] = outcomes.flatMap((o) => o.result.logs.map((e) => ({ filter: o.filter, ...e })));
    const error = this.error;
    this.ctx.log.request({
      method: this.method,
      path: this.path,
      status: this.reply.status,
      durationMs: Math.round(performance.now() - this.started),
      endedBy: this.exchange.endedBy,
      filters: outcomes.map((o) => ({ name: o.filter, phases: o.result.phases })),
      logs,
      ...(error ? { error } : {}),
    });
  }

  settle(): void {
    this.ctx.filters.settle(this.exchange);
  }

  // ---- the reply's owner (ReplyOwner) ------------------------------------------------------

  replied(error?: string): void {
    this.finish(error);
  }

  clientBusy(busy: boolean): void {
    this.responseValve.busy(busy);
  }

  // ---- the chain's ends (ExchangeEnds) -----------------------------------------------------

  upstreamHeaders(headers: Header[], eos: boolean, knownLength: number | null): void {
    const request = new UpstreamSide(this, headers, eos, knownLength, this.input, this.ctx);
    this.upstream = this.ctx.upstream ? realUpstream(this.ctx.upstream, request) : echoUpstream(request);
  }

  upstreamBody(chunk: Uint8Array, eos: boolean): void {
    if (this.upstream && !this.upstream.body(chunk, eos)) this.requestValve.busy(true);
    this.requestValve.check();
  }

  upstreamTrailers(trailers: Header[]): void {
    this.upstream?.trailers(trailers);
  }

  abortUpstream(): void {
    this.upstream?.abort();
  }

  clientHeaders(headers: Header[], eos: boolean, knownLength: number | null): void {
    this.reply.headers(headers, eos, knownLength);
  }

  clientBody(chunk: Uint8Array, eos: boolean): void {
    this.reply.body(chunk, eos);
    this.responseValve.check();
  }

  clientTrailers(trailers: Header[]): void {
    this.reply.trailers(trailers);
  }

  reset(filter: string): void {
    this.reply.reset(`stream reset by ${filter}`);
  }
}

/** What the upstream client gets of a request: the headers the chain passed on and the way back. */
class UpstreamSide implements UpstreamRequest {
  readonly routeTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly maxHeadersCount: number;
  readonly log: Logger;

  constructor(
    private readonly request: ProxiedRequest,
    readonly headers: Header[],
    readonly endOfStream: boolean,
    readonly knownLength: number | null,
    readonly sink: ResponseSink,
    ctx: RequestContext,
  ) {
    this.routeTimeoutMs = ctx.limits.routeTimeoutMs;
    this.maxHeaderBytes = ctx.limits.maxRequestHeadersKb * 1024;
    this.maxHeadersCount = ctx.limits.maxHeadersCount;
    this.log = ctx.log;
  }

  settle(): void {
    this.request.settle();
  }

  onDrain(): void {
    this.request.requestValve.busy(false);
  }

  onResponseSource(source: Pausable): void {
    this.request.responseValve.attach(source);
  }

  onError(reason: string): void {
    this.request.error ??= reason;
  }

  reset(reason: string): void {
    this.request.reply.reset(reason);
  }
}

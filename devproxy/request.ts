// One request through the dev proxy: the client's request goes into the filter chain, what the
// last filter passes on goes to the upstream, the upstream's response comes back through the
// chain, and what the first filter passes on goes to the client. Then one log line.

import { randomUUID } from "node:crypto";
import type http from "node:http";
import type { Header } from "../host/index.js";
import { echoUpstream } from "./echo.js";
import { Exchange, type ExchangeEnds } from "./exchange.js";
import type { FilterSet } from "./filters.js";
import { HOP_BY_HOP, pairs } from "./headers.js";
import type { Logger, LogLine } from "./log.js";
import { ClientReply } from "./reply.js";
import { realUpstream, type UpstreamHandle, type UpstreamRequest } from "./upstream.js";

export interface RequestContext {
  filters: FilterSet;
  log: Logger;
  /** --upstream, or null for the echo upstream. */
  upstream: string | null;
  /** The proxy's own authority, for a request without Host. */
  authority: string;
  counted(status: number | null): void;
}

const EMPTY = new Uint8Array(0);

export function serveRequest(ctx: RequestContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const started = performance.now();
  const chain = ctx.filters.acquireChain();
  const method = req.method ?? "GET";
  const path = req.url ?? "/";
  let error: string | undefined;
  let done = false;
  let upstream: UpstreamHandle | null = null;

  const finish = (why?: string) => {
    if (done) return;
    done = true;
    error ??= why;
    ctx.filters.exchanges.delete(exchange);
    upstream?.abort();
    const outcomes = exchange.finish();
    ctx.filters.release(chain);
    ctx.counted(reply.status);
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
    ctx.filters.settle();
  };
  const reply = new ClientReply(res, method, finish);

  const ends: ExchangeEnds = {
    upstreamHeaders: (headers, eos, knownLength) => {
      const request: UpstreamRequest = {
        headers,
        endOfStream: eos,
        knownLength,
        sink: exchange,
        settle: () => ctx.filters.settle(),
        onError: (e) => (error = e),
        log: ctx.log,
      };
      upstream = ctx.upstream ? realUpstream(ctx.upstream, request) : echoUpstream(request);
    },
    upstreamBody: (chunk, eos) => upstream?.body(chunk, eos),
    upstreamTrailers: (trailers) => upstream?.trailers(trailers),
    abortUpstream: () => upstream?.abort(),
    clientHeaders: (headers, eos, knownLength) => reply.headers(headers, eos, knownLength),
    clientBody: (chunk, eos) => reply.body(chunk, eos),
    clientTrailers: (trailers) => reply.trailers(trailers),
    reset: (filter) => reply.reset(`stream reset by ${filter}`),
  };

  const exchange = new Exchange(
    chain.map((l) => ({ name: l.slot.name, plugin: l.plugin })),
    {
      "source.address": `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      "source.port": BigInt(req.socket.remotePort ?? 0),
      "destination.address": `${req.socket.localAddress}:${req.socket.localPort}`,
      "destination.port": BigInt(req.socket.localPort ?? 0),
    },
    ends,
  );
  ctx.filters.exchanges.add(exchange);

  res.on("close", () => finish(reply.started ? "client closed the connection during the response" : "client went away"));

  const headers: Header[] = [
    [":method", method],
    [":path", path],
    [":authority", req.headers.host ?? ctx.authority],
    [":scheme", "http"],
    ...pairs(req.rawHeaders).filter(([k]) => !HOP_BY_HOP.has(k) || k === "content-length"),
  ];
  if (!req.headers["x-request-id"]) headers.push(["x-request-id", randomUUID()]);
  headers.push(["x-forwarded-proto", "http"]);
  const length = req.headers["content-length"] !== undefined ? Number(req.headers["content-length"]) : null;
  const chunked = req.headers["transfer-encoding"] !== undefined;
  const noBody = !chunked && (length === null || length === 0);
  exchange.requestHeaders(headers, noBody);
  ctx.filters.settle();
  if (noBody) {
    req.resume();
    return;
  }
  let received = 0;
  let ended = false;
  req.on("data", (chunk: Buffer) => {
    if (done || ended) return;
    received += chunk.length;
    ended = !chunked && length !== null && received >= length;
    exchange.requestBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
    ctx.filters.settle();
  });
  req.on("end", () => {
    if (done || ended) return;
    ended = true;
    const trailers = pairs(req.rawTrailers);
    if (trailers.length > 0) exchange.requestTrailers(trailers);
    else exchange.requestBody(EMPTY, true);
    ctx.filters.settle();
  });
}

// The upstream client: what the last filter passes on goes to --upstream over HTTP/1.1, streamed
// both ways; the response goes into the chain's response side. When the upstream cannot be
// reached, Envoy's router answers 503 "upstream connect error ..." through the filters.

import http from "node:http";
import type { Header } from "../host/index.js";
import { HOP_BY_HOP, joinUrl, noBodyStatus, pairs } from "./headers.js";
import type { Logger } from "./log.js";

/** Where an upstream's response goes: the response side of the filter chain. */
export interface ResponseSink {
  responseHeaders(headers: Header[], endOfStream: boolean): void;
  responseBody(chunk: Uint8Array, endOfStream: boolean): void;
  responseTrailers(trailers: Header[]): void;
}

/** What the chain sends on to an upstream after the request headers. */
export interface UpstreamHandle {
  body(chunk: Uint8Array, endOfStream: boolean): void;
  trailers(trailers: Header[]): void;
  abort(): void;
}

export interface UpstreamRequest {
  headers: Header[];
  endOfStream: boolean;
  knownLength: number | null;
  sink: ResponseSink;
  /** Called after each step, so the proxy moves the chain along. */
  settle(): void;
  onError(reason: string): void;
  log: Logger;
}

const EMPTY = new Uint8Array(0);

export function realUpstream(base: string, r: UpstreamRequest): UpstreamHandle {
  const { headers, sink } = r;
  const pseudo = (name: string) => headers.find(([k]) => k === name)?.[1] ?? "";
  const method = pseudo(":method") || "GET";
  const target = joinUrl(base, pseudo(":path") || "/");
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of headers) {
    if (k.startsWith(":") || HOP_BY_HOP.has(k.toLowerCase())) continue;
    ((out[k.toLowerCase()] ??= []) as string[]).push(v);
  }
  out.host = target.host;
  if (pseudo(":authority")) out["x-forwarded-host"] = pseudo(":authority");
  const declared = headers.find(([k]) => k.toLowerCase() === "content-length")?.[1];
  if (declared !== undefined && /^\d+$/.test(declared)) out["content-length"] = declared;
  else if (r.knownLength !== null && (r.knownLength > 0 || !["GET", "HEAD", "DELETE", "OPTIONS"].includes(method))) {
    out["content-length"] = String(r.knownLength);
  }
  let aborted = false;
  let responded = false;
  const request = http.request(target, { method, headers: out }, (res) => {
    responded = true;
    const status = res.statusCode ?? 502;
    const response: Header[] = [[":status", String(status)], ...pairs(res.rawHeaders).filter(([k]) => !HOP_BY_HOP.has(k) || k === "content-length")];
    const clen = res.headers["content-length"] !== undefined ? Number(res.headers["content-length"]) : null;
    const noBody = method === "HEAD" || noBodyStatus(status) || (clen === 0 && res.headers["transfer-encoding"] === undefined);
    sink.responseHeaders(response, noBody);
    r.settle();
    if (noBody) {
      res.resume();
      return;
    }
    let received = 0;
    let ended = false;
    res.on("data", (chunk: Buffer) => {
      if (aborted || ended) return;
      received += chunk.length;
      ended = clen !== null && received >= clen;
      sink.responseBody(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), ended);
      r.settle();
    });
    res.on("end", () => {
      if (aborted || ended) return;
      ended = true;
      const trailers = pairs(res.rawTrailers);
      if (trailers.length > 0) sink.responseTrailers(trailers);
      else sink.responseBody(EMPTY, true);
      r.settle();
    });
  });
  request.on("error", (e) => {
    if (aborted) return;
    const code = (e as NodeJS.ErrnoException).code ?? e.message;
    r.onError(`upstream ${base}: ${code}`);
    r.log.error(`upstream ${target.href} failed: ${code}`);
    if (!responded) {
      // What Envoy's router answers when the upstream cannot be reached; it goes through the
      // filters' response callbacks like any response.
      const body = new TextEncoder().encode(`upstream connect error or disconnect/reset before headers. reset reason: ${code}`);
      sink.responseHeaders([[":status", "503"], ["content-type", "text/plain"], ["content-length", String(body.length)]], false);
      sink.responseBody(body, true);
      r.settle();
    }
  });
  if (r.endOfStream) request.end();
  return {
    body: (chunk, end) => {
      if (aborted) return;
      try {
        if (chunk.length > 0) request.write(chunk);
        if (end) request.end();
      } catch (e) {
        // e.g. a filter changed the request body but not its content-length
        request.destroy(e as Error);
      }
    },
    trailers: (trailers) => {
      if (aborted) return;
      if (trailers.length > 0 && !out["content-length"]) request.addTrailers(Object.fromEntries(trailers));
      request.end();
    },
    abort: () => {
      aborted = true;
      request.destroy();
    },
  };
}

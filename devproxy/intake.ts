// Request intake and its limits, as Envoy's HTTP connection manager applies them before any
// filter runs: at most 100 request headers and 60 KiB of them by default (431 beyond), 400 for a
// request the HTTP/1 codec cannot parse, the hop-by-hop headers and Expect: 100-continue removed.
// `:path` is the request target byte for byte (Envoy's default path settings normalise nothing).

import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Socket } from "node:net";
import type { Header } from "../host/index.js";
import type { Logger } from "./log.js";

export interface Limits {
  /** Envoy's common_http_protocol_options.max_headers_count. */
  maxHeadersCount: number;
  /** Envoy's max_request_headers_kb. */
  maxRequestHeadersKb: number;
  /** Envoy's per_connection_buffer_limit_bytes: what a filter may buffer in one direction. */
  bufferLimitBytes: number;
  /** The route timeout (ms, 0: none): from the end of the request to the end of the response. */
  routeTimeoutMs: number;
}

export const ENVOY_LIMITS: Limits = {
  maxHeadersCount: 100,
  maxRequestHeadersKb: 60,
  bufferLimitBytes: 1024 * 1024,
  routeTimeoutMs: 15_000,
};

/** The proxy's listener: Node's HTTP/1.1 server with Envoy's header limits and codec errors. */
export function createProxyServer(
  limits: Limits,
  log: Logger,
  serve: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): http.Server {
  const server = http.createServer({ maxHeaderSize: limits.maxRequestHeadersKb * 1024 }, (req, res) => {
    // Node keeps at most maxHeadersCount and drops the rest silently: one more tells us.
    if (req.rawHeaders.length / 2 > limits.maxHeadersCount) {
      log.warn(`${req.method} ${req.url}: 431, more than ${limits.maxHeadersCount} request headers (--max-headers-count)`);
      return refuse(res, 431, "Request Header Fields Too Large");
    }
    serve(req, res);
  });
  server.maxHeadersCount = limits.maxHeadersCount + 1;
  // Envoy tunnels CONNECT only when a route is configured for it: never here.
  server.on("connect", (req: http.IncomingMessage, socket: Socket) => {
    log.warn(`CONNECT ${req.url}: 403, the dev proxy does not tunnel CONNECT`);
    socket.on("error", () => socket.destroy());
    socket.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\nForbidden");
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const [status, text, why] =
      err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", `more than ${limits.maxRequestHeadersKb} KiB of request headers (--max-request-headers-kb)`]
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "Request Timeout", "the request did not arrive in time"]
          : [400, "Bad Request", `malformed request (${err.code ?? err.message})`];
    log.warn(`client ${socket.remoteAddress}:${socket.remotePort}: ${status}, ${why}`);
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain\r\ncontent-length: ${text.length}\r\nconnection: close\r\n\r\n${text}`);
  });
  return server;
}

function refuse(res: http.ServerResponse, status: number, text: string): void {
  res.shouldKeepAlive = false;
  res.writeHead(status, { "content-type": "text/plain", "content-length": text.length, connection: "close" });
  res.end(text);
}

/** Removed from every request before the filters see it (Envoy mutateRequestHeaders). */
const REQUEST_HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "transfer-encoding", "upgrade", "te", "trailer", "host"]);

/** What the proxy takes from a request's head: the first filter's headers, and how its body is framed. */
export interface RequestHead {
  /** Pseudo-headers, then the client's, hop-by-hop removed. */
  headers: Header[];
  /** Content-Length as the client sent it (the first one), or null. */
  contentLength: string | null;
  /** A Transfer-Encoding was sent. */
  chunked: boolean;
}

/**
 * The request's head from its raw header list, without Node's req.headers object (built on
 * first use, lower-casing every name once more): what it answered is taken the way it does
 * (the first host and content-length; values of a repeated x-request-id joined with ", ").
 */
export function requestHead(req: http.IncomingMessage, ownAuthority: string): RequestHead {
  const raw = req.rawHeaders;
  // Headers the client named in Connection are hop-by-hop too.
  let named: ReadonlySet<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== "connection") continue;
    const tokens = connectionTokens(raw[i + 1]);
    if (named === null) named = tokens;
    else named = new Set([...named, ...tokens]);
  }
  const { path, authority } = target(req.url ?? "/");
  const headers: Header[] = [
    [":method", req.method ?? "GET"],
    [":path", path],
    [":authority", ""],
    [":scheme", "http"],
  ];
  let host: string | undefined;
  let contentLength: string | null = null;
  let chunked = false;
  let requestIds = 0;
  let requestId = "";
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const v = raw[i + 1];
    if (k === "host") host ??= v;
    else if (k === "content-length") contentLength ??= v;
    else if (k === "transfer-encoding") chunked = true;
    else if (k === "x-request-id" && requestIds++ === 0) requestId = v;
    const kept = k === "te" ? v.trim().toLowerCase() === "trailers" : !REQUEST_HOP_BY_HOP.has(k) && !named?.has(k); // Envoy keeps "te: trailers"
    // Node's server has answered 100 Continue, as Envoy's connection manager does before removing it.
    if (kept && !(k === "expect" && v.toLowerCase() === "100-continue")) headers.push([k, v]);
  }
  headers[2][1] = authority ?? host ?? ownAuthority;
  // Node's req.headers["x-request-id"] is falsy only when absent or a single empty value.
  if (requestIds === 0 || (requestIds === 1 && requestId === "")) headers.push(["x-request-id", randomUUID()]);
  headers.push(["x-forwarded-proto", "http"]);
  return { headers, contentLength, chunked };
}

/** Clients send the same Connection value on every request ("keep-alive"): its tokens, parsed once. */
const parsedConnection = new Map<string, ReadonlySet<string>>();

function connectionTokens(value: string): ReadonlySet<string> {
  let tokens = parsedConnection.get(value);
  if (tokens === undefined) {
    tokens = new Set(value.split(",").map((t) => t.trim().toLowerCase()));
    // Bounded: a client controls the value.
    if (parsedConnection.size < 64) parsedConnection.set(value, tokens);
  }
  return tokens;
}

/**
 * The request target as :path, byte for byte; an absolute-form target (http://host/path, as sent
 * to a forward proxy) gives :authority and :path as Envoy's HTTP/1 codec splits it.
 */
function target(url: string): { path: string; authority: string | null } {
  const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!absolute) return { path: url, authority: null };
  const rest = absolute[2];
  return { path: rest.startsWith("/") ? rest : `/${rest}`, authority: absolute[1] };
}

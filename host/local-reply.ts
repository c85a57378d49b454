// A local reply as Envoy builds it (source/common/http/utility.cc Utility::prepareLocalReply and
// encodeLocalReply): the filter's headers added to `:status`, then
//  - a gRPC request (content-type application/grpc or application/grpc+..., with a :path) gets a
//    trailers-only 200: content-type application/grpc, grpc-status (a grpc-status header the
//    filter gave wins, then the filter's gRPC status, then the HTTP status mapped by
//    httpToGrpcStatus), grpc-message with the percent-encoded body, no content-length, no body;
//  - otherwise a body sets content-length (and content-type text/plain when none was given), and
//    an empty body removes both, even when the filter supplied them;
//  - a HEAD request gets the headers alone, with end of stream.

import type { LocalReplyRequest } from "./context.js";
import { HeaderMap } from "./header-map.js";
import { httpToGrpcStatus } from "./stream-attributes.js";
import { EMPTY_BYTES } from "./text.js";

export interface PreparedLocalReply {
  headers: HeaderMap;
  /** What follows the headers; empty when the headers end the stream. */
  body: Uint8Array;
  /** The headers carry end of stream (trailers-only gRPC, HEAD, or no body). */
  endStream: boolean;
}

/** What Envoy decides from the request headers as the client sent them (requestHeadersInitialized). */
export interface RequestKind {
  grpc: boolean;
  head: boolean;
}

export function requestKind(headers: HeaderMap): RequestKind {
  const type = headers.getFirst("content-type") ?? "";
  // Grpc::Common::isGrpcRequestHeaders / hasGrpcContentType: application/grpc-web is not gRPC.
  const grpc = headers.getFirst(":path") !== undefined && type.startsWith("application/grpc") && (type.length === 16 || type[16] === "+");
  return { grpc, head: headers.getFirst(":method") === "HEAD" };
}

export function prepareLocalReply(reply: LocalReplyRequest, kind: RequestKind): PreparedLocalReply {
  const headers = new HeaderMap([[":status", String(reply.status)]], "responseHeaders");
  for (const [k, v] of reply.headers) headers.add(k, v);
  if (kind.grpc) {
    headers.setInline(":status", "200");
    headers.setInline("content-type", "application/grpc");
    if (headers.getFirst("grpc-status") === undefined) {
      headers.setInline("grpc-status", String(reply.grpcStatus ?? httpToGrpcStatus(reply.status)));
    }
    if (reply.body.length > 0 && !kind.head) headers.setInline("grpc-message", percentEncode(reply.body));
    headers.remove("content-length");
    return { headers, body: EMPTY_BYTES, endStream: true };
  }
  if (reply.body.length > 0) {
    headers.setInline("content-length", String(reply.body.length));
    if (headers.getFirst("content-type") === undefined) headers.setInline("content-type", "text/plain");
  } else {
    headers.remove("content-length");
    headers.remove("content-type");
  }
  if (kind.head) return { headers, body: EMPTY_BYTES, endStream: true };
  return { headers, body: reply.body, endStream: reply.body.length === 0 };
}

/** Envoy's PercentEncoding::encode(value, "%"): bytes below ' ', from '~' up, and '%' become %XX. */
export function percentEncode(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    out += b < 0x20 || b >= 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
  }
  return out;
}

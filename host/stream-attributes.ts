// What get_property/set_property answer on an HTTP stream (Envoy context.cc getProperty,
// setProperty): the request.* and response.* attributes computed from the stream's headers, the
// filter state set_property wrote, then the test's properties and a local connection's defaults
// (the defaults are only built when a lookup gets that far).

import { MapType, WasmResult } from "./abi/enums.js";
import { encodePairs } from "./abi/pairs.js";
import type { AttributeSource } from "./context.js";
import type { HeaderMap } from "./header-map.js";
import { connectionDefaults, findProperty, type PropertyValue } from "./properties.js";
import { encodeText } from "./text.js";

/** What the attributes read from the stream. */
export interface AttributeStream {
  /** Envoy getConstMap(). */
  readableMap(type: MapType): HeaderMap | null;
  /** The response headers once the response started (upstream or local reply), else null. */
  responseHeaders(): HeaderMap | null;
  /** response.code_details: the local reply's or close_stream's details, "via_upstream", or none yet. */
  responseCodeDetails(): string | null;
  /** Request body bytes received from the client (StreamInfo bytesReceived). */
  bytesReceived(): number;
  /** Response body bytes sent to the client (StreamInfo bytesSent). */
  bytesSent(): number;
  /** StreamInfo requestComplete(): ns from the stream's start to the request's last byte, or null before. */
  requestDurationNs(): bigint | null;
}

export class StreamAttributes implements AttributeSource {
  private filterState: Map<string, Uint8Array> | null = null;
  private readonlyState: Set<string> | null = null;
  private defaults: Map<string, PropertyValue> | null = null;

  constructor(
    private readonly stream: AttributeStream,
    /** The plugin's options.properties with the stream's own on top. */
    private readonly properties: ReadonlyMap<string, PropertyValue>,
    private readonly connectionId: number,
    /** request.time: when the stream was created. */
    private readonly requestTimeNs: bigint,
  ) {}

  property(segments: string[]): Uint8Array | undefined {
    const [top, ...rest] = segments;
    const attribute =
      top === "request" ? this.requestAttribute(rest) : top === "response" ? this.responseAttribute(rest) : undefined;
    if (attribute !== undefined) return attribute;
    const state = this.filterState?.get(top);
    if (state !== undefined) return rest.length === 0 ? state : undefined; // bytes cannot be walked into
    return undefined;
  }

  userProperty(segments: string[]): Uint8Array | undefined {
    return findProperty(this.properties, segments) ?? findProperty(this.connectionDefaults(), segments);
  }

  setProperty(rawPath: string, value: Uint8Array, readonly = false): WasmResult {
    // Envoy stores filter state "wasm.<path>"; get_property looks up the first segment only.
    this.filterState ??= new Map();
    const existed = this.filterState.has(rawPath);
    // CelState::setValue: a readonly state takes its first value only.
    if (existed && this.readonlyState?.has(rawPath)) return WasmResult.BadArgument;
    this.filterState.set(rawPath, value.slice());
    if (!existed && readonly) (this.readonlyState ??= new Set()).add(rawPath);
    return WasmResult.Ok;
  }

  private connectionDefaults(): Map<string, PropertyValue> {
    if (this.defaults === null) {
      this.defaults = connectionDefaults(this.connectionId);
      this.defaults.set("request.protocol", "HTTP/1.1");
      this.defaults.set("request.time", this.requestTimeNs);
    }
    return this.defaults;
  }

  private requestAttribute(path: string[]): Uint8Array | undefined {
    if (path.length === 1 && path[0] === "duration") {
      // expr/context.cc Duration: requestComplete(), whether or not the headers are readable.
      const ns = this.stream.requestDurationNs();
      return ns === null ? undefined : int64(ns);
    }
    const map = this.stream.readableMap(MapType.RequestHeaders);
    if (!map) return undefined;
    const one = (name: string) => map.getFirst(name);
    const fullPath = one(":path");
    const q = fullPath?.indexOf("?") ?? -1;
    const simple: Record<string, string | undefined> = {
      path: fullPath,
      url_path: fullPath === undefined ? undefined : q < 0 ? fullPath : fullPath.slice(0, q),
      // expr/context.cc: the query stops at a fragment.
      query: fullPath === undefined ? undefined : q < 0 ? "" : fullPath.slice(q + 1).split("#")[0],
      host: one(":authority"),
      scheme: one(":scheme"),
      method: one(":method"),
      referer: one("referer"),
      useragent: one("user-agent"),
      id: one("x-request-id"),
    };
    if (path.length === 1 && path[0] in simple) return encode(simple[path[0]]);
    if (path.length === 1 && path[0] === "size") {
      // content-length when there is one (a bad one answers nothing), else the bytes received.
      const declared = one("content-length");
      if (declared === undefined) return int64(this.stream.bytesReceived());
      return /^-?\d+$/.test(declared) ? int64(Number(declared)) : undefined;
    }
    if (path.length === 1 && path[0] === "total_size") return int64(this.stream.bytesReceived() + map.byteSize());
    if (path[0] === "headers") return headerAttribute(map, path.slice(1));
    return undefined;
  }

  private responseAttribute(path: string[]): Uint8Array | undefined {
    // Stream info, whether or not a response started.
    if (path.length === 1 && path[0] === "code_details") return encode(this.stream.responseCodeDetails() ?? undefined);
    if (path.length === 1 && path[0] === "size") return int64(this.stream.bytesSent());
    // expr/context.cc Flags: StreamInfo's response flags. None of what this host emulates sets one
    // (a filter's local reply, the 413/500 too-large replies, a failed VM's 503, close_stream).
    if (path.length === 1 && path[0] === "flags") return int64(0);
    const headers = this.stream.responseHeaders();
    if (headers === null) return undefined;
    if (path.length === 1 && path[0] === "total_size") {
      const trailers = this.stream.readableMap(MapType.ResponseTrailers);
      return int64(this.stream.bytesSent() + headers.byteSize() + (trailers?.byteSize() ?? 0));
    }
    const code = Number(headers.getFirst(":status"));
    if (path.length === 1 && path[0] === "code") return Number.isInteger(code) ? int64(code) : undefined;
    if (path.length === 1 && path[0] === "grpc_status") {
      // Grpc::Common::getGrpcStatus(trailers, headers, info): trailers, headers, then the HTTP status.
      const trailers = this.stream.readableMap(MapType.ResponseTrailers);
      const given = trailers?.getFirst("grpc-status") ?? headers.getFirst("grpc-status");
      if (given !== undefined) return int64(/^\d+$/.test(given) && Number(given) <= 16 ? Number(given) : -1);
      return Number.isInteger(code) ? int64(httpToGrpcStatus(code)) : undefined;
    }
    if (path[0] === "headers") {
      const map = this.stream.readableMap(MapType.ResponseHeaders);
      return map ? headerAttribute(map, path.slice(1)) : undefined;
    }
    if (path[0] === "trailers") {
      const map = this.stream.readableMap(MapType.ResponseTrailers);
      return map ? headerAttribute(map, path.slice(1)) : undefined;
    }
    return undefined;
  }
}

/** A header map attribute: the whole map as pairs, or one header with values comma-joined. */
function headerAttribute(map: HeaderMap, path: string[]): Uint8Array | undefined {
  if (path.length === 0) {
    const names = [...new Set(map.toArray().map(([k]) => k))];
    return encodePairs(names.map((n) => [n, map.getAll(n).join(",")]));
  }
  if (path.length !== 1) return undefined;
  const values = map.getAll(path[0]);
  return values.length === 0 ? undefined : encode(values.join(","));
}

/** Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(status: number): number {
  const map: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };
  return map[status] ?? 2;
}

function int64(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n), true);
  return out;
}

function encode(s: string | undefined): Uint8Array | undefined {
  return s === undefined ? undefined : encodeText(s);
}

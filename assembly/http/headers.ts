import {
  addHeaderMapValue, getHeaderMapSize, getHeaderMapValue, readHeaderMapPairs, readHeaderMapValue, removeHeaderMapValue,
  replaceHeaderMapValue, setHeaderMapPairs,
} from "../hostcalls/headers";
import {
  countNamed, deserializePairs, equalIgnoringAsciiCase, firstName, Header, namedValue, namedValueLength, nameLengthAt, pairCount,
  serializePairs, valueLengthAt,
} from "../pairs";
import { parseDecimalU64At } from "../decimal";
import { encodeCached } from "../runtime/encoded";
import { releaseLentBuffer } from "../runtime/memory";
import { MapType, WasmResult } from "../types";
import { decodeUtf8, decodeUtf8At } from "../utf8";

/**
 * One of the stream's header maps (request/response headers or trailers).
 * Envoy stores names in lower case and lower-cases the names it is given.
 * Readable in the callbacks of its own direction (request headers stop being readable once the
 * request has gone upstream); trailers can be added from the last body callback.
 */
export class HeaderMap {
  constructor(readonly type: MapType) {}

  /** The first value of `name`, or null when absent. */
  get(name: string): string | null {
    const value = readHeaderMapValue(this.type, encodeCached(name));
    if (!value) return null;
    const text = decodeUtf8(value);
    releaseLentBuffer(value);
    return text;
  }

  /** The first value of `name` as bytes, or null when absent. */
  getBytes(name: string): ArrayBuffer | null {
    return getHeaderMapValue(this.type, encodeCached(name));
  }

  has(name: string): bool {
    const value = readHeaderMapValue(this.type, encodeCached(name));
    if (!value) return false;
    releaseLentBuffer(value);
    return true;
  }

  /** Every pair in order, duplicates included. Empty when the map is not available. */
  all(): Header[] {
    const pairs = readHeaderMapPairs(this.type);
    const headers = deserializePairs(pairs); // copies what it keeps
    releaseLentBuffer(pairs);
    return headers;
  }

  /**
   * The value of `name` when the map holds it exactly once; null when it is absent or repeated. A client
   * may send a header twice and Envoy passes both on, while `get` (Envoy's getHeaderMapValue) shows only
   * the first: a check that trusts one value must refuse a second. Only the match is decoded.
   */
  getSingle(name: string): string | null {
    const pairs = readHeaderMapPairs(this.type);
    const value = countNamed(pairs, encodeCached(name)) == 1 ? decodeUtf8At(namedValue, namedValueLength) : null;
    releaseLentBuffer(pairs);
    return value;
  }

  /**
   * The value `getSingle` finds, read as a plain decimal u64 (ASCII digits only, leading zeros allowed,
   * no sign, spaces or prefixes); `otherwise` when the header is absent, repeated, empty, anything else or
   * past u64. Reads the host's bytes in place: nothing is decoded or allocated.
   */
  getSingleU64(name: string, otherwise: u64): u64 {
    const pairs = readHeaderMapPairs(this.type);
    const value = countNamed(pairs, encodeCached(name)) == 1 ? parseDecimalU64At(namedValue, namedValueLength, otherwise) : otherwise;
    releaseLentBuffer(pairs);
    return value;
  }

  /** How many values `name` has (compared without regard to ASCII case, as Envoy does). */
  count(name: string): i32 {
    const pairs = readHeaderMapPairs(this.type);
    const count = countNamed(pairs, encodeCached(name));
    releaseLentBuffer(pairs);
    return count;
  }

  /** Every value of `name` (compared without regard to ASCII case, as Envoy does), in order. */
  values(name: string): string[] {
    const wanted = encodeCached(name);
    const values = new Array<string>();
    // Read in place: only the values asked for become strings.
    const pairs = readHeaderMapPairs(this.type);
    const count = pairCount(pairs);
    let pair = firstName(pairs, count);
    for (let i = 0; i < count; i++) {
      const nameLength = nameLengthAt(pairs, i);
      const valueLength = valueLengthAt(pairs, i);
      if (equalIgnoringAsciiCase(pair, nameLength, wanted)) values.push(decodeUtf8At(pair + nameLength + 1, valueLength));
      pair += nameLength + valueLength + 2;
    }
    releaseLentBuffer(pairs);
    return values;
  }

  /** Appends a value, keeping existing ones. */
  add(name: string, value: string): WasmResult {
    return addHeaderMapValue(this.type, encodeCached(name), encodeCached(value));
  }

  addBytes(name: string, value: ArrayBuffer): WasmResult {
    return addHeaderMapValue(this.type, encodeCached(name), value);
  }

  /** Appends a prepared header: build it once (in onConfigure) to skip the UTF-8 encoding per request. */
  addHeader(header: Header): WasmResult {
    return addHeaderMapValue(this.type, header.nameBytes, header.valueBytes);
  }

  /** Sets the value, replacing existing ones or adding the header. */
  replace(name: string, value: string): WasmResult {
    return replaceHeaderMapValue(this.type, encodeCached(name), encodeCached(value));
  }

  replaceBytes(name: string, value: ArrayBuffer): WasmResult {
    return replaceHeaderMapValue(this.type, encodeCached(name), value);
  }

  /** Sets a prepared header, replacing existing values. */
  replaceHeader(header: Header): WasmResult {
    return replaceHeaderMapValue(this.type, header.nameBytes, header.valueBytes);
  }

  /** Removes every value of `name`; removing an absent header is not an error. */
  remove(name: string): WasmResult {
    return removeHeaderMapValue(this.type, encodeCached(name));
  }

  /** Replaces the whole map. */
  replaceAll(headers: Header[]): WasmResult {
    return setHeaderMapPairs(this.type, serializePairs(headers));
  }

  /** The map's size in bytes as Envoy counts it, or -1 when the map is not available. */
  byteSize(): i64 {
    return getHeaderMapSize(this.type);
  }
}

// @ts-ignore: decorator
@lazy export const requestHeaders = new HeaderMap(MapType.HttpRequestHeaders);
// @ts-ignore: decorator
@lazy export const requestTrailers = new HeaderMap(MapType.HttpRequestTrailers);
// @ts-ignore: decorator
@lazy export const responseHeaders = new HeaderMap(MapType.HttpResponseHeaders);
// @ts-ignore: decorator
@lazy export const responseTrailers = new HeaderMap(MapType.HttpResponseTrailers);

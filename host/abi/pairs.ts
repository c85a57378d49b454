// Header-map ("pairs") serialization: u32 N, N x {u32 key_len, u32 value_len}, then N x
// {key, NUL, value, NUL}. Decoding is as strict as cpp-host's PairsUtil::toPairs
// (src/pairs_util.cc): any malformation yields an EMPTY map, silently.

import { decodeText } from "../text.js";

export type Pair = [string, string];
export type BytePair = [Uint8Array, Uint8Array];

/** limits.h PROXY_WASM_HOST_PAIRS_MAX_BYTES / _MAX_COUNT */
export const PAIRS_MAX_BYTES = 1024 * 1024;
export const PAIRS_MAX_COUNT = 1024;

const utf8 = new TextEncoder();

export function toBytes(s: string | Uint8Array): Uint8Array {
  return typeof s === "string" ? utf8.encode(s) : s;
}

export function encodePairs(pairs: ReadonlyArray<readonly [string | Uint8Array, string | Uint8Array]>): Uint8Array {
  const encoded = pairs.map(([k, v]) => [toBytes(k), toBytes(v)] as const);
  let size = 4;
  for (const [k, v] of encoded) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, encoded.length, true);
  let pos = 4;
  for (const [k, v] of encoded) {
    view.setUint32(pos, k.length, true);
    view.setUint32(pos + 4, v.length, true);
    pos += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, pos);
    pos += k.length + 1; // NUL already zero
    out.set(v, pos);
    pos += v.length + 1;
  }
  return out;
}

export function decodePairBytes(buffer: Uint8Array): BytePair[] {
  if (buffer.length > PAIRS_MAX_BYTES || buffer.length < 4) return [];
  const count = readU32(buffer, 0);
  if (count > PAIRS_MAX_COUNT) return [];
  let pos = 4 + count * 8;
  if (pos > buffer.length) return [];
  const pairs: BytePair[] = [];
  for (let i = 0; i < count; i++) {
    const klen = readU32(buffer, 4 + i * 8);
    const vlen = readU32(buffer, 8 + i * 8);
    if (pos + klen + 1 > buffer.length) return [];
    const key = buffer.slice(pos, pos + klen);
    pos += klen;
    if (buffer[pos++] !== 0) return [];
    if (pos + vlen + 1 > buffer.length) return [];
    const value = buffer.slice(pos, pos + vlen);
    pos += vlen;
    if (buffer[pos++] !== 0) return [];
    pairs.push([key, value]);
  }
  if (pos !== buffer.length) return [];
  return pairs;
}

export function decodePairs(buffer: Uint8Array): Pair[] {
  return decodePairBytes(buffer).map(([k, v]) => [decodeText(k), decodeText(v)]);
}

function readU32(bytes: Uint8Array, pos: number): number {
  return (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24)) >>> 0;
}

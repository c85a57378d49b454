// An Envoy-like header map: keys are lower-cased on every write (Http::LowerCaseString, which
// lower-cases ASCII only), pseudo-headers stay in front of regular headers, and byteSize() is the
// sum of key and value lengths, which is what Envoy returns for proxy_get_header_map_size.
// Envoy's O(1) ("inline") headers hold one entry: adding a second value appends ",value" to it
// (HeaderMapImpl::insertByKey, appendToHeader), and in a request map "host" is :authority.
// Names and values are bytes, as in Envoy: a test may pass bytes that are not UTF-8 (Uint8Array)
// and the plugin sees exactly those bytes; strings are UTF-8 encoded.
//
// Most maps are built from strings and never read by the plugin, so an entry keeps what it was
// given and converts (string <-> bytes) only when asked; entries never change, so snapshots of a
// map share them, and the map copies its entry list only when changed while a snapshot holds it.

import { decodeText, EMPTY_BYTES, encodeText, sameBytes, sameText, textMatchesBytes, utf8Length, writeText } from "./text.js";

export type Header = [string, string];
/** A header as raw bytes (name, value). */
export type HeaderBytes = [Uint8Array, Uint8Array];
/** A header as a test may give it: strings (UTF-8) or raw bytes, in any mix. */
export type HeaderInput = readonly [string | Uint8Array, string | Uint8Array];

const COLON = 0x3a;

const isUpperAscii = (c: number) => c >= 0x41 && c <= 0x5a;

/** absl::AsciiStrToLower on bytes: only A-Z change. Returns the input when nothing changes. */
function lowerAscii(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && !isUpperAscii(bytes[i])) i++;
  if (i === bytes.length) return bytes;
  const out = bytes.slice();
  for (; i < out.length; i++) if (isUpperAscii(out[i])) out[i] |= 0x20;
  return out;
}

/** Lower-cases ASCII in a string key (non-ASCII characters are kept as they are, like Envoy). */
function lowerAsciiString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (isUpperAscii(s.charCodeAt(i))) return s.replace(/[A-Z]/g, (m) => String.fromCharCode(m.charCodeAt(0) | 0x20));
  }
  return s;
}

/** Which of Envoy's concrete header maps this is: each has its own inline headers. */
export type HeaderMapKind = "requestHeaders" | "requestTrailers" | "responseHeaders" | "responseTrailers";

// envoy/http/header_map.h INLINE_* lists with the names of source/common/http/headers.h, as
// header_map_impl.cc registers them per map (StaticLookupTable<...>), plus referer, which
// source/extensions/filters/common/expr/context.cc (linked by every Envoy with Wasm) registers as
// a custom inline request header. Other extensions compiled into a given Envoy build register
// more (cors: origin; compressor: accept-encoding; cache, oauth2: authorization ...).
const REQ_AND_RESP = [
  "connection", "content-type", "x-envoy-decorator-operation", "keep-alive", "proxy-connection", "proxy-status",
  "x-request-id", "transfer-encoding", "upgrade", "via", "content-length", "x-envoy-attempt-count",
];
const RESP_HEADERS_AND_TRAILERS = ["grpc-message", "grpc-status"];
const INLINE: Record<HeaderMapKind, ReadonlySet<string>> = {
  requestHeaders: new Set([
    "x-client-trace-id", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
    "x-envoy-external-address", "x-envoy-force-trace", "x-envoy-hedge-on-per-try-timeout", "x-envoy-internal",
    "x-envoy-ip-tags", "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-retriable-status-codes",
    "x-envoy-retriable-header-names", "x-envoy-is-timeout-retry", "x-envoy-original-path", "x-envoy-original-url",
    "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-alt-response", "expect",
    "x-forwarded-client-cert", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "grpc-timeout",
    ":authority", ":method", ":path", ":protocol", ":scheme", "te", "user-agent",
    "x-envoy-expected-rq-timeout-ms", "x-envoy-max-retries", "x-envoy-upstream-rq-timeout-ms",
    "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-stream-duration-ms", "x-forwarded-port",
    ...REQ_AND_RESP,
    "referer",
  ]),
  requestTrailers: new Set(),
  responseHeaders: new Set([
    "date", "x-envoy-degraded", "x-envoy-immediate-health-check-fail", "x-envoy-ratelimited",
    "x-envoy-upstream-canary", "x-envoy-upstream-healthchecked-cluster", "location", "server",
    "x-envoy-upstream-service-time", ":status",
    ...REQ_AND_RESP,
    ...RESP_HEADERS_AND_TRAILERS,
  ]),
  responseTrailers: new Set(RESP_HEADERS_AND_TRAILERS),
};

/** Whether Envoy keeps `name` (lower-cased) as one inline entry in a map of this kind. */
export function isInlineHeader(kind: HeaderMapKind, name: string): boolean {
  return INLINE[kind].has(name);
}

const HOST = "host";
const AUTHORITY = ":authority";

/**
 * One header: text or bytes, whichever it was given as, the other made when asked for; a text
 * key is lower-cased on first use too (most maps are never read). When an entry has bytes, they
 * are what it is (text decoded from bytes that are not UTF-8 is lossy).
 */
class Entry {
  private constructor(
    private keyText: string | null,
    /** keyText is lower-cased. */
    private keyLowered: boolean,
    private keyBytes: Uint8Array | null,
    private valueText: string | null,
    private valueBytes: Uint8Array | null,
    /** A pseudo-header (":path"); lower-casing cannot change a leading colon. */
    readonly pseudo: boolean,
  ) {}

  /** Bytes are copied, so the caller may reuse its arrays. */
  static from(key: string | Uint8Array, value: string | Uint8Array): Entry {
    const valueText = typeof value === "string" ? value : null;
    const valueBytes = valueText === null ? (value as Uint8Array).slice() : null;
    if (typeof key === "string") return new Entry(key, false, null, valueText, valueBytes, key.charCodeAt(0) === COLON);
    const keyBytes = copyLowered(key);
    return new Entry(null, true, keyBytes, valueText, valueBytes, keyBytes[0] === COLON);
  }

  /** Keeps the arrays themselves. */
  static adopt(key: Uint8Array, value: Uint8Array): Entry {
    const keyBytes = lowerAscii(key);
    return new Entry(null, true, keyBytes, null, value, keyBytes[0] === COLON);
  }

  /** appendToHeader(): ",value" after a non-empty value; an empty addition changes nothing. */
  appended(addition: Entry): Entry {
    if (addition.valueSize === 0) return this;
    if (this.valueSize === 0) return new Entry(this.keyText, this.keyLowered, this.keyBytes, addition.valueText, addition.valueBytes, this.pseudo);
    const [a, b] = [this.value, addition.value];
    const joined = new Uint8Array(a.length + 1 + b.length);
    joined.set(a);
    joined[a.length] = 0x2c;
    joined.set(b, a.length + 1);
    return new Entry(this.keyText, this.keyLowered, this.keyBytes, null, joined, this.pseudo);
  }

  /** The same value under another (lower-case) key. */
  withKey(key: string): Entry {
    return new Entry(key, true, null, this.valueText, this.valueBytes, key.charCodeAt(0) === COLON);
  }

  get keyString(): string {
    if (this.keyText === null) this.keyText = decodeText(this.keyBytes!);
    else if (!this.keyLowered) this.keyText = lowerAsciiString(this.keyText);
    this.keyLowered = true;
    return this.keyText;
  }

  get valueString(): string {
    return (this.valueText ??= decodeText(this.valueBytes!));
  }

  get key(): Uint8Array {
    return (this.keyBytes ??= encodeText(this.keyString));
  }

  get value(): Uint8Array {
    return (this.valueBytes ??= encodeText(this.valueText!));
  }

  get keySize(): number {
    // Lower-casing ASCII letters keeps the size.
    return this.keyBytes !== null ? this.keyBytes.length : utf8Length(this.keyText!);
  }

  get valueSize(): number {
    return this.valueBytes !== null ? this.valueBytes.length : utf8Length(this.valueText!);
  }

  /** At least keySize + valueSize: text takes up to 3 UTF-8 bytes per UTF-16 unit. */
  get sizeBound(): number {
    return (this.keyBytes?.length ?? 3 * this.keyText!.length) + (this.valueBytes?.length ?? 3 * this.valueText!.length);
  }

  /** Fresh copies of the key and value bytes. */
  copyBytes(): HeaderBytes {
    return [
      this.keyBytes !== null ? this.keyBytes.slice() : encodeText(this.keyString),
      this.valueBytes !== null ? this.valueBytes.slice() : encodeText(this.valueText!),
    ];
  }

  /** Writes the key's bytes at `pos` (with room for sizeBound); returns the end. */
  writeKey(out: Uint8Array, pos: number): number {
    if (this.keyBytes !== null) return put(out, pos, this.keyBytes);
    // ASCII text is lower-cased while it is copied: one pass, and no lower-cased string.
    const text = this.keyText!;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) return put(out, pos, this.key);
      out[pos + i] = isUpperAscii(c) ? c | 0x20 : c;
    }
    return pos + text.length;
  }

  /** Writes the value's bytes at `pos` (with room for sizeBound); returns the end. */
  writeValue(out: Uint8Array, pos: number): number {
    return this.valueBytes !== null ? put(out, pos, this.valueBytes) : writeText(out, pos, this.valueText!);
  }

  /** Whether the key is `lowered` (already lower-cased), compared as bytes like Envoy. */
  hasKey(lowered: string | Uint8Array): boolean {
    const bytes = this.keyBytes;
    if (bytes !== null) return typeof lowered === "string" ? textMatchesBytes(lowered, bytes) : sameBytes(bytes, lowered);
    return typeof lowered === "string" ? sameText(this.keyString, lowered) : textMatchesBytes(this.keyString, lowered);
  }
}

function copyLowered(bytes: Uint8Array): Uint8Array {
  const lowered = lowerAscii(bytes);
  return lowered === bytes ? bytes.slice() : lowered;
}

function put(out: Uint8Array, pos: number, bytes: Uint8Array): number {
  out.set(bytes, pos);
  return pos + bytes.length;
}

function lowerKey(key: string | Uint8Array): string | Uint8Array {
  return typeof key === "string" ? lowerAsciiString(key) : lowerAscii(key);
}

export class HeaderMap {
  private entries: Entry[] = [];
  /** A snapshot holds `entries` too: copy it before changing it in place. */
  private shared = false;

  /** `kind` decides which headers are inline (one entry, values comma-joined). */
  constructor(
    headers: ReadonlyArray<HeaderInput>,
    readonly kind: HeaderMapKind,
  ) {
    for (const [k, v] of headers) this.add(k, v);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The headers as they are now, unaffected by later changes to this map. */
  snapshot(): HeaderMap {
    const copy = new HeaderMap([], this.kind);
    copy.entries = this.entries;
    copy.shared = this.shared = true;
    return copy;
  }

  /** The headers as strings (bytes that are not UTF-8 decode to U+FFFD); see toBytes() for the raw bytes. */
  toArray(): Header[] {
    return this.entries.map((e) => [e.keyString, e.valueString]);
  }

  /** The headers as raw bytes, exactly as the plugin sees them. */
  toBytes(): HeaderBytes[] {
    return this.entries.map((e) => e.copyBytes());
  }

  /**
   * The map in the pairs format (abi/pairs.ts encodePairs): u32 count, count x (u32 key size,
   * u32 value size), then each key and value followed by NUL; empty for an empty map. It lives in
   * a buffer every map reuses, so copy it before the next call: a new array over 64 bytes costs
   * V8 more than the encoding itself.
   */
  encodePairs(): Uint8Array {
    const entries = this.entries;
    if (entries.length === 0) return EMPTY_BYTES;
    let bound = 4 + entries.length * 10;
    for (const e of entries) bound += e.sizeBound;
    if (pairsBuffer.length < bound) pairsBuffer = new Uint8Array(Math.max(bound, 2 * pairsBuffer.length));
    const out = pairsBuffer;
    putU32(out, 0, entries.length);
    let pos = 4 + entries.length * 8;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const keyAt = pos;
      pos = e.writeKey(out, pos);
      putU32(out, 4 + i * 8, pos - keyAt);
      out[pos++] = 0;
      const valueAt = pos;
      pos = e.writeValue(out, pos);
      putU32(out, 8 + i * 8, pos - valueAt);
      out[pos++] = 0;
    }
    return out.subarray(0, pos);
  }

  /** Envoy answers with the first value only (context.cc getHeaderMapValue). */
  getFirst(key: string): string | undefined {
    return this.find(this.lookupKey(key))?.valueString;
  }

  getFirstBytes(key: string | Uint8Array): Uint8Array | undefined {
    return this.find(this.lookupKey(key))?.value;
  }

  getAll(key: string): string[] {
    const k = this.lookupKey(key);
    const values: string[] = [];
    for (const e of this.entries) if (e.hasKey(k)) values.push(e.valueString);
    return values;
  }

  add(key: string | Uint8Array, value: string | Uint8Array): void {
    this.insert(Entry.from(key, value));
  }

  /** add() for bytes nobody else holds (fresh copies of module memory): the map keeps them. */
  adopt(key: Uint8Array, value: Uint8Array): void {
    this.insert(Entry.adopt(key, value));
  }

  private insert(entry: Entry): void {
    const inline = INLINE[this.kind];
    if (inline.size > 0) {
      let name = entry.keyString;
      if (name === HOST && this.kind === "requestHeaders") {
        // The static lookup table maps the legacy host header to :authority.
        entry = entry.withKey(AUTHORITY);
        name = AUTHORITY;
      }
      if (inline.has(name)) {
        const at = this.indexOf(name);
        if (at >= 0) {
          const joined = this.entries[at].appended(entry);
          if (joined !== this.entries[at]) this.changeInPlace()[at] = joined;
          return;
        }
      }
    }
    const entries = this.changeInPlace();
    let at = entries.length;
    if (entry.pseudo) {
      at = 0;
      while (at < entries.length && entries[at].pseudo) at++;
    }
    if (at === entries.length) entries.push(entry);
    else entries.splice(at, 0, entry);
  }

  /** setCopy with Envoy's default http_set_copy_replace_all_headers: drop all, then add. */
  replace(key: string | Uint8Array, value: string | Uint8Array): void {
    this.remove(key);
    this.add(key, value);
  }

  /** Envoy's set<Inline>(): the value of the one entry changes in place, or the entry is added. */
  setInline(key: string, value: string): void {
    const k = this.lookupKey(key);
    const at = this.indexOf(k);
    if (at < 0) this.add(k, value);
    else this.changeInPlace()[at] = Entry.from(k, value);
  }

  remove(key: string | Uint8Array): void {
    const k = this.lookupKey(key);
    if (this.find(k) !== undefined) this.replaceEntries(this.entries.filter((e) => !e.hasKey(k)));
  }

  setAll(headers: ReadonlyArray<HeaderInput>): void {
    this.replaceEntries([]);
    for (const [k, v] of headers) this.add(k, v);
  }

  byteSize(): number {
    let n = 0;
    for (const e of this.entries) n += e.keySize + e.valueSize;
    return n;
  }

  /** The lower-cased key, with "host" read as :authority in a request map. */
  private lookupKey(key: string | Uint8Array): string | Uint8Array {
    const k = lowerKey(key);
    if (this.kind !== "requestHeaders") return k;
    const isHost = typeof k === "string" ? k === HOST : textMatchesBytes(HOST, k);
    return isHost ? AUTHORITY : k;
  }

  private find(lowered: string | Uint8Array): Entry | undefined {
    const at = this.indexOf(lowered);
    return at < 0 ? undefined : this.entries[at];
  }

  /** A loop rather than findIndex: no closure per inline header of every map built. */
  private indexOf(lowered: string | Uint8Array): number {
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) if (entries[i].hasKey(lowered)) return i;
    return -1;
  }

  private changeInPlace(): Entry[] {
    if (this.shared) this.replaceEntries(this.entries.slice());
    return this.entries;
  }

  private replaceEntries(entries: Entry[]): void {
    this.entries = entries;
    this.shared = false;
  }
}

/** Where encodePairs() writes; grows to the largest map encoded. */
let pairsBuffer = new Uint8Array(1024);

function putU32(out: Uint8Array, pos: number, value: number): void {
  out[pos] = value;
  out[pos + 1] = value >>> 8;
  out[pos + 2] = value >>> 16;
  out[pos + 3] = value >>> 24;
}

// An Envoy-like header map: keys are lower-cased on every write (Http::LowerCaseString, which
// lower-cases ASCII only), pseudo-headers stay in front of regular headers, and byteSize() is the
// sum of key and value lengths, which is what Envoy returns for proxy_get_header_map_size.
// Names and values are bytes, as in Envoy: a test may pass bytes that are not UTF-8 (Uint8Array)
// and the plugin sees exactly those bytes; strings are UTF-8 encoded.

export type Header = [string, string];
/** A header as raw bytes (name, value). */
export type HeaderBytes = [Uint8Array, Uint8Array];
/** A header as a test may give it: strings (UTF-8) or raw bytes, in any mix. */
export type HeaderInput = readonly [string | Uint8Array, string | Uint8Array];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const COLON = 0x3a;

/** absl::AsciiStrToLower on bytes: only A-Z change. Returns the input when nothing changes. */
function lowerAscii(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && !(bytes[i] >= 0x41 && bytes[i] <= 0x5a)) i++;
  if (i === bytes.length) return bytes;
  const out = bytes.slice();
  for (; i < out.length; i++) if (out[i] >= 0x41 && out[i] <= 0x5a) out[i] |= 0x20;
  return out;
}

/** Lower-cases ASCII in a string key (non-ASCII characters are kept as they are, like Envoy). */
function lowerAsciiString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.replace(/[A-Z]/g, (m) => String.fromCharCode(m.charCodeAt(0) | 0x20));
  }
  return s;
}

/** UTF-8 bytes of `s`; header names and values are mostly short ASCII, where a loop beats TextEncoder's call cost. */
function encodeText(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class Entry {
  private keyText: string | null = null;
  private valueText: string | null = null;

  constructor(
    readonly key: Uint8Array,
    readonly value: Uint8Array,
  ) {}

  static from(key: string | Uint8Array, value: string | Uint8Array): Entry {
    const keyText = typeof key === "string" ? lowerAsciiString(key) : null;
    const k = keyText !== null ? encodeText(keyText) : lowerAscii(key as Uint8Array).slice();
    const v = typeof value === "string" ? encodeText(value) : value.slice();
    const entry = new Entry(k, v);
    entry.keyText = keyText;
    if (typeof value === "string") entry.valueText = value;
    return entry;
  }

  get keyString(): string {
    return (this.keyText ??= decoder.decode(this.key));
  }

  get valueString(): string {
    return (this.valueText ??= decoder.decode(this.value));
  }

  get pseudo(): boolean {
    return this.key.length > 0 && this.key[0] === COLON;
  }
}

function keyBytes(key: string | Uint8Array): Uint8Array {
  return typeof key === "string" ? encodeText(lowerAsciiString(key)) : lowerAscii(key);
}

export class HeaderMap {
  private entries: Entry[] = [];

  constructor(headers: ReadonlyArray<HeaderInput> = []) {
    for (const [k, v] of headers) this.add(k, v);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The headers as strings (bytes that are not UTF-8 decode to U+FFFD); see toBytes() for the raw bytes. */
  toArray(): Header[] {
    return this.entries.map((e) => [e.keyString, e.valueString]);
  }

  /** The headers as raw bytes, exactly as the plugin sees them. */
  toBytes(): HeaderBytes[] {
    return this.entries.map((e) => [e.key.slice(), e.value.slice()]);
  }

  /** Envoy answers with the first value only (context.cc getHeaderMapValue). */
  getFirst(key: string): string | undefined {
    const k = keyBytes(key);
    return this.entries.find((e) => sameBytes(e.key, k))?.valueString;
  }

  getFirstBytes(key: string | Uint8Array): Uint8Array | undefined {
    const k = keyBytes(key);
    return this.entries.find((e) => sameBytes(e.key, k))?.value;
  }

  getAll(key: string): string[] {
    const k = keyBytes(key);
    return this.entries.filter((e) => sameBytes(e.key, k)).map((e) => e.valueString);
  }

  add(key: string | Uint8Array, value: string | Uint8Array): void {
    const entry = Entry.from(key, value);
    if (entry.pseudo) {
      const firstRegular = this.entries.findIndex((e) => !e.pseudo);
      this.entries.splice(firstRegular === -1 ? this.entries.length : firstRegular, 0, entry);
    } else {
      this.entries.push(entry);
    }
  }

  /** setCopy with Envoy's default http_set_copy_replace_all_headers: drop all, then add. */
  replace(key: string | Uint8Array, value: string | Uint8Array): void {
    this.remove(key);
    this.add(key, value);
  }

  remove(key: string | Uint8Array): void {
    const k = keyBytes(key);
    this.entries = this.entries.filter((e) => !sameBytes(e.key, k));
  }

  setAll(headers: ReadonlyArray<HeaderInput>): void {
    this.entries = [];
    for (const [k, v] of headers) this.add(k, v);
  }

  byteSize(): number {
    let n = 0;
    for (const e of this.entries) n += e.key.length + e.value.length;
    return n;
  }
}

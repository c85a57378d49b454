// Shared pieces of the reliability suite: the fixed seed, hostile-input arbitraries and small
// models of what Envoy does to header maps.
//
// Seed: every property reads PROPERTY_SEED (default below) and PROPERTY_RUNS (a multiplier of each
// property's run count, default 1). `npm run test:properties -- --seed 123 [--runs 5]` explores; a
// failure prints the seed and fast-check's counterexample path, which reproduce it.

import fc from "fast-check";
import { isInlineHeader, type HeaderMapKind } from "../../host/header-map.js";
import type { HeaderInput, Plugin, RequestResult } from "../../host/index.js";

export const DEFAULT_SEED = 20240917;
export const SEED = process.env.PROPERTY_SEED !== undefined ? Number(process.env.PROPERTY_SEED) : DEFAULT_SEED;
const RUNS_FACTOR = process.env.PROPERTY_RUNS !== undefined ? Number(process.env.PROPERTY_RUNS) : 1;

/** fast-check parameters: the fixed (or given) seed, `runs` scaled by PROPERTY_RUNS. */
export function params(runs: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(runs * RUNS_FACTOR)), endOnFailure: true };
}

/** fc.assert with a short report: the seed and path that reproduce it, the (truncated) counterexample and the cause. */
export function assertProperty<T>(property: fc.IProperty<T>, runs: number): void {
  const details = fc.check(property, params(runs) as fc.Parameters<T>);
  if (!details.failed) return;
  const example = fc.stringify(details.counterexample);
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `property failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}"; ` +
      `rerun with PROPERTY_SEED=${details.seed})\ncounterexample: ${example.length > 1500 ? `${example.slice(0, 1500)}... (${example.length} chars)` : example}\ncause: ${cause.slice(0, 3000)}`,
  );
}

const enc = new TextEncoder();
const dec = new TextDecoder();

// ---- Arbitraries ---------------------------------------------------------------------------

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~";

/** An RFC 9110 token in mixed case. */
export const tokenName = fc
  .array(fc.constantFrom(...TOKEN_CHARS), { minLength: 1, maxLength: 24 })
  .map((cs) => cs.join(""));

/** Bytes that are not valid UTF-8: a lone continuation byte, an overlong form or 0xFF somewhere. */
export const invalidUtf8 = fc
  .tuple(
    fc.uint8Array({ maxLength: 12 }),
    fc.constantFrom([0x80], [0xff], [0xc0, 0xb1], [0xe0, 0x80, 0xb1], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3]),
    fc.uint8Array({ maxLength: 12 }),
  )
  .map(([a, bad, b]) => Uint8Array.from([...a, ...bad, ...b]));

const asciiPrintable = fc.string({ unit: fc.constantFrom(..." !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\t"), maxLength: 40 });

/** A header name: tokens in mixed case, empty, non-UTF-8 bytes, pseudo-header look-alikes. */
export const headerName: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: tokenName },
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.constantFrom(":path", ":METHOD", ":authority", "Content-Type", "TOKEN", "token", "x-auth-user", "Authorization") },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }) },
);

/** A header value: text, empty, control bytes, non-UTF-8, sometimes 64 KiB. */
export const headerValue: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: asciiPrintable },
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 16 }) },
  { weight: 1, arbitrary: fc.nat(9).map((n) => "9".repeat(n * 3 + 1)) },
  { weight: 1, arbitrary: fc.constantFrom(64 * 1024, 4096, 1).map((n) => "v".repeat(n)) },
);

export type Headers = [string | Uint8Array, string | Uint8Array][];

/** A header list: usually a few headers (duplicates likely), sometimes 1,000 small ones. */
export const headerList: fc.Arbitrary<Headers> = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(1000), headerValue.filter((v) => v.length < 100)).map(([seed, v]) =>
      Array.from({ length: 1000 }, (_, i): [string, string | Uint8Array] => [`x-h${(i * 7 + seed) % 300}`, v]),
    ),
  },
);

/** A body (sometimes empty, sometimes 100+ KiB) and a random split of it into chunks. */
export const chunkedBody: fc.Arbitrary<Uint8Array[]> = fc
  .tuple(
    fc.oneof(
      { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) },
      { weight: 1, arbitrary: fc.nat(200 * 1024).map((n) => new Uint8Array(n).fill(0x61)) },
    ),
    fc.array(fc.nat(), { maxLength: 6 }),
  )
  .map(([body, cuts]) => split(body, cuts));

export function split(body: Uint8Array, cuts: number[]): Uint8Array[] {
  if (body.length === 0) return [];
  const points = [...new Set(cuts.map((c) => c % body.length).filter((c) => c > 0))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, body.length]) {
    chunks.push(body.slice(from, p));
    from = p;
  }
  return chunks;
}

/** Hostile plugin configurations: truncated, deeply nested, huge, wrong types, binary. */
export function hostileConfiguration(valid: string[]): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    fc.constantFrom(...valid),
    fc.constantFrom(...valid).chain((v) => fc.nat(Math.max(0, v.length - 1)).map((n) => v.slice(0, n))),
    fc.nat(20000).map((n) => "[".repeat(n) + "]".repeat(n)),
    fc.nat(5000).map((n) => '{"a":'.repeat(n) + "1" + "}".repeat(n)),
    fc.nat(5000).map((n) => "[".repeat(n)),
    fc.constant(JSON.stringify({ x: "y".repeat(2 * 1024 * 1024) })),
    fc.jsonValue({ maxDepth: 4 }).map((j) => JSON.stringify(j)),
    fc.dictionary(fc.constantFrom("name", "value", "header", "field", "cluster", "requestsPerSecond", "burst", "keyHeader", "maxBodyBytes", "pattern", "path", "timeoutMs", "service", "method", "refreshMs"), fc.jsonValue({ maxDepth: 2 })).map((o) => JSON.stringify(o)),
    fc.string({ unit: "binary", maxLength: 200 }),
    invalidUtf8,
    fc.constantFrom("", " ", "{", "}", "null", "true", "1e999999", "-0", '"\\ud800"', '{"a":1,"a":2}', "{\"name\":\"\u0000\"}", "\uFEFF{}"),
  );
}

// ---- Models ---------------------------------------------------------------------------------

export function bytes(x: string | Uint8Array): Uint8Array {
  return typeof x === "string" ? enc.encode(x) : x;
}

export function text(x: string | Uint8Array): string {
  return typeof x === "string" ? x : dec.decode(x);
}

/** absl::AsciiStrToLower. */
export function lowerAscii(b: Uint8Array): Uint8Array {
  return b.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/**
 * Envoy's header map after insertion (hex pairs): names lower-cased (ASCII), "host" is :authority
 * in a request map, a repeated inline header (isInlineHeader: Envoy's header_map.h lists) is one
 * entry with ",value" appended (nothing for an empty value), pseudo-headers in front.
 */
export function envoyHeaderMap(headers: ReadonlyArray<HeaderInput>, kind: HeaderMapKind = "requestHeaders"): [string, string][] {
  const entries: [string, string][] = [];
  for (const [k, v] of headers) {
    let key = hex(lowerAscii(bytes(k)));
    if (kind === "requestHeaders" && key === hex(enc.encode("host"))) key = hex(enc.encode(":authority"));
    const value = hex(bytes(v));
    const at = isInlineHeader(kind, Buffer.from(key, "hex").toString("latin1")) ? entries.findIndex(([e]) => e === key) : -1;
    if (at < 0) entries.push([key, value]);
    else if (value !== "") entries[at][1] = entries[at][1] === "" ? value : `${entries[at][1]}2c${value}`;
  }
  const isPseudo = ([k]: [string, string]) => k.startsWith("3a");
  return [...entries.filter(isPseudo), ...entries.filter((e) => !isPseudo(e))];
}

/** The first value of `name` in an envoyHeaderMap() result, as text. */
export function firstValue(map: [string, string][], name: string): string | undefined {
  const entry = map.find(([k]) => k === hex(enc.encode(name)));
  return entry === undefined ? undefined : dec.decode(Buffer.from(entry[1], "hex"));
}

/** A forwarded message's headers as hex pairs, to compare with envoyHeaderMap(). */
export function hexHeaders(headers: ReadonlyArray<[Uint8Array, Uint8Array]>): [string, string][] {
  return headers.map(([k, v]) => [hex(k), hex(v)]);
}

/** The request headers runHttpRequest sends: the defaults for missing pseudo-headers in front. */
export function withRequestDefaults(headers: Headers): Headers {
  const defaults: [string, string][] = [[":method", "GET"], [":path", "/"], [":authority", "localhost"], [":scheme", "http"]];
  // The host header is the :authority of a request.
  const names = headers.map(([k]) => text(k).replace(/[A-Z]+/g, (m) => m.toLowerCase())).map((n) => (n === "host" ? ":authority" : n));
  return [...defaults.filter(([k]) => !names.includes(k)), ...headers];
}

export function withResponseDefaults(headers: Headers): Headers {
  const names = headers.map(([k]) => text(k).replace(/[A-Z]+/g, (m) => m.toLowerCase()));
  return names.includes(":status") ? headers : [[":status", "200"], ...headers];
}

/** Every value of `name` (lower-case ASCII) in a header list, as bytes. */
export function valuesOf(headers: Headers, name: string): Uint8Array[] {
  const wanted = hex(lowerAscii(enc.encode(name)));
  return headers.filter(([k]) => hex(lowerAscii(bytes(k))) === wanted).map(([, v]) => bytes(v));
}

/** Deterministic Miller–Rabin for n < 2^64. */
export function isPrime(n: bigint): boolean {
  const bases = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];
  if (n < 2n) return false;
  for (const p of bases) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  const pow = (b: bigint, e: bigint): bigint => {
    let r = 1n;
    b %= n;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % n;
      b = (b * b) % n;
      e >>= 1n;
    }
    return r;
  };
  outer: for (const a of bases) {
    let x = pow(a, d);
    if (x === 1n || x === n - 1n) continue;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

/** The prime-authorizer's rule: exactly one token header, plain decimal digits, a u64, prime. */
export function primeAuthorizerAllows(headers: Headers, headerName = "token"): boolean {
  const tokens = valuesOf(headers, headerName);
  if (tokens.length !== 1) return false;
  const t = tokens[0];
  if (t.length === 0 || !t.every((c) => c >= 0x30 && c <= 0x39)) return false;
  const n = BigInt(dec.decode(t));
  return n <= 0xffffffffffffffffn && isPrime(n);
}

// ---- Checks -----------------------------------------------------------------------------------

/** No trap: the VM is alive and the stream was not failed by one. */
export function assertNoTrap(plugin: Plugin, result?: RequestResult): void {
  if (plugin.failed) throw new Error(`the VM failed: ${plugin.failure}`);
  if (result && result.stopped === "vm_failed") throw new Error("the stream was failed by a trap");
}

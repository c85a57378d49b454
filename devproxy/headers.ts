// Header lists as the dev proxy handles them: Node's raw lists as pairs, the hop-by-hop headers
// Envoy removes, what HTTP/1.1 can carry, and where a request goes upstream.

import type { Header } from "../host/index.js";

/** Never passed on as they are: connection-level headers, and lengths the proxy sets itself. */
export const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length",
]);

/** Each header's values in order, by lower-cased name (header maps compare names case-insensitively). */
export function valuesByName(list: readonly Header[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const [name, value] of list) {
    const key = name.toLowerCase();
    const values = byName.get(key);
    if (values) values.push(value);
    else byName.set(key, [value]);
  }
  return byName;
}

/** A pseudo-header's value ("" when absent). */
export function pseudo(headers: readonly Header[], name: string): string {
  for (const [k, v] of headers) if (k === name) return v;
  return "";
}

/** Raw header list (Node's strings, or undici's bytes, read as Latin-1 as Node does) → lower-cased name/value pairs. */
export function pairs(raw: readonly (string | Buffer)[]): Header[] {
  const out: Header[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([latin1(raw[i]).toLowerCase(), latin1(raw[i + 1])]);
  return out;
}

const latin1 = (text: string | Buffer): string => (typeof text === "string" ? text : text.toString("latin1"));

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node's HTTP/1.1 writer accepts in a value (Envoy's own check refuses NUL, CR and LF).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Envoy's HeaderUtility wording for the first header HTTP/1.1 cannot carry (a name that is not a
 * token, a value with NUL, CR, LF or another control character), or null.
 */
export function invalidHeader(headers: Header[]): string | null {
  for (const [k, v] of headers) {
    if (k.startsWith(":")) continue;
    if (!TOKEN.test(k)) return `invalid header name: ${JSON.stringify(k).slice(1, -1)}`;
    if (BAD_VALUE.test(v)) return `invalid header value for: ${k}`;
  }
  return null;
}

/**
 * Where a request for `path` goes on the upstream `base` (http://host:port[/prefix]): the path is
 * appended to the prefix as it is, byte for byte; nothing is resolved or normalised.
 */
export function upstreamTarget(base: string, path: string): { host: string; hostname: string; port: number; origin: string; path: string } {
  let parsed = parsedBases.get(base);
  if (!parsed) {
    // One upstream URL per proxy (and a few clusters): parsed once, not on every request.
    const u = new URL(base);
    const host = u.host;
    parsed = { host, hostname: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80), origin: `http://${host}`, prefix: u.pathname.replace(/\/+$/, "") };
    if (parsedBases.size < 64) parsedBases.set(base, parsed);
  }
  const { host, hostname, port, origin, prefix } = parsed;
  return { host, hostname, port, origin, path: prefix === "" && path.startsWith("/") ? path : `${prefix}${path.startsWith("/") ? path : `/${path}`}` };
}

const parsedBases = new Map<string, { host: string; hostname: string; port: number; origin: string; prefix: string }>();

/** What Node refuses in a request target (Envoy's codec would refuse these too). */
export const BAD_PATH = /[^\x21-\xff]/;

/** 1xx, 204 and 304 responses never carry a body. */
export function noBodyStatus(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

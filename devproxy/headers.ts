// Header lists as the dev proxy handles them: Node's raw lists as pairs, the hop-by-hop headers
// Envoy removes, and statuses that carry no body.

import type { Header } from "../host/index.js";

export const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "content-length",
]);

/** Raw header list → lower-cased name/value pairs. */
export function pairs(raw: string[]): Header[] {
  const out: Header[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]);
  return out;
}

export function joinUrl(base: string, path: string): URL {
  const u = new URL(base);
  const prefix = u.pathname.replace(/\/+$/, "");
  return new URL(`${u.protocol}//${u.host}${prefix}${path.startsWith("/") ? path : `/${path}`}`);
}

export function noBodyStatus(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

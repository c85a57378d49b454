// The built-in upstream, used without --upstream: it answers 200 with the request it saw (after
// the filters) as JSON. It keeps at most ECHOED_BODY_BYTES of the body (and says how many came).

import type { Header } from "../host/index.js";
import type { UpstreamHandle, UpstreamRequest } from "./upstream.js";

const ECHOED_BODY_BYTES = 64 * 1024;

export function echoUpstream(r: UpstreamRequest): UpstreamHandle {
  const { headers, sink } = r;
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let received = 0;
  let trailers: Header[] = [];
  let aborted = false;
  const answer = () =>
    setImmediate(() => {
      if (aborted) return;
      const pseudo = (name: string) => headers.find(([k]) => k === name)?.[1];
      const joined = (list: Header[]) => {
        const o: Record<string, string> = {};
        for (const [k, v] of list) if (!k.startsWith(":")) o[k] = k in o ? `${o[k]},${v}` : v;
        return o;
      };
      const seen = {
        method: pseudo(":method"),
        path: pseudo(":path"),
        authority: pseudo(":authority"),
        headers: joined(headers),
        body: Buffer.concat(chunks).toString("utf8"),
        ...(received > kept ? { bodyBytes: received, bodyTruncated: true } : {}),
        ...(trailers.length ? { trailers: joined(trailers) } : {}),
      };
      const body = new TextEncoder().encode(`${JSON.stringify(seen, null, 2)}\n`);
      sink.responseHeaders(
        [[":status", "200"], ["content-type", "application/json"], ["content-length", String(body.length)], ["server", "proxy-wasm-as-echo"]],
        false,
      );
      sink.responseBody(body, true);
      r.settle();
    });
  if (r.endOfStream) answer();
  return {
    body: (chunk, end) => {
      received += chunk.length;
      const room = ECHOED_BODY_BYTES - kept;
      if (room > 0 && chunk.length > 0) {
        chunks.push(chunk.slice(0, room));
        kept += Math.min(room, chunk.length);
      }
      if (end) answer();
      return true;
    },
    trailers: (t) => {
      trailers = t;
      answer();
    },
    abort: () => {
      aborted = true;
    },
  };
}

// http_call from a filter, sent for real: cluster NAME goes to the URL given with --cluster
// NAME=URL. The answer (or the failure, or Envoy's timeout) goes back to the plugin through
// `answer`, exactly once.

import http from "node:http";
import type { Header, PendingHttpCall } from "../host/index.js";
import { HOP_BY_HOP, invalidHeader, pairs, pseudo, upstreamTarget } from "./headers.js";
import type { Logger } from "./log.js";

export type CalloutAnswer = { headers: Header[]; body: Uint8Array; trailers: Header[] } | null | "timeout";

interface CalloutContext {
  filter: string;
  verbose: boolean;
  log: Logger;
  /** The answer, how long it took, and why it failed when it did. */
  answer(response: CalloutAnswer, ms: number, failure?: string): void;
}

/** A callout's answer is read whole (the plugin gets it in one piece): cap what we hold. */
const MAX_CALLOUT_RESPONSE_BYTES = 16 * 1024 * 1024;

export function sendCallout(call: PendingHttpCall, base: string | undefined, ctx: CalloutContext): void {
  const method = pseudo(call.headers, ":method") || "GET";
  const path = pseudo(call.headers, ":path") || "/";
  const started = performance.now();
  let answered = false;
  let request: http.ClientRequest | null = null;
  const answer = (response: CalloutAnswer, failure?: string) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    const ms = Math.round(performance.now() - started);
    if (response === null || response === "timeout") {
      ctx.log.warn(`${ctx.filter}: callout to cluster '${call.upstream}' ${method} ${path} failed after ${ms} ms: ${failure}`, {
        filter: ctx.filter,
        cluster: call.upstream,
      });
    } else if (ctx.verbose) {
      const status = response.headers.find(([k]) => k === ":status")?.[1];
      ctx.log.pluginLogs([{ filter: ctx.filter, level: "debug", message: `callout to cluster '${call.upstream}' ${method} ${path} → ${status} (${ms} ms)` }]);
    }
    ctx.answer(response, ms, failure);
  };
  const timer = setTimeout(() => {
    request?.destroy();
    answer("timeout", `timed out (${call.timeoutMs} ms): the plugin gets Envoy's 504 "upstream request timeout"`);
  }, call.timeoutMs > 0 ? call.timeoutMs : 2 ** 31 - 1);
  if (!base) {
    setImmediate(() => answer(null, `no URL for cluster '${call.upstream}': pass --cluster ${call.upstream}=http://HOST:PORT`));
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of call.headers) {
    if (k.startsWith(":") || HOP_BY_HOP.has(k.toLowerCase())) continue;
    ((headers[k.toLowerCase()] ??= []) as string[]).push(v);
  }
  const target = upstreamTarget(base, path);
  headers.host = pseudo(call.headers, ":authority") || target.host;
  const body = call.bodyBytes ? Buffer.from(call.bodyBytes) : Buffer.from(call.body, "utf8");
  if (body.length > 0 || !["GET", "HEAD"].includes(method)) headers["content-length"] = String(body.length);
  const invalid = invalidHeader(call.headers);
  if (invalid) {
    setImmediate(() => answer(null, invalid));
    return;
  }
  try {
    request = http.request({ hostname: target.hostname, port: target.port, path: target.path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_CALLOUT_RESPONSE_BYTES) {
          request?.destroy();
          answer(null, `the response is larger than ${MAX_CALLOUT_RESPONSE_BYTES} bytes`);
          return;
        }
        chunks.push(c);
      });
      res.on("end", () =>
        answer({
          headers: [[":status", String(res.statusCode)], ...pairs(res.rawHeaders)],
          body: new Uint8Array(Buffer.concat(chunks)),
          trailers: pairs(res.rawTrailers),
        }),
      );
      res.on("error", (e) => answer(null, e.message));
    });
  } catch (e) {
    setImmediate(() => answer(null, `${base}: ${(e as Error).message}`));
    return;
  }
  request.on("error", (e) => answer(null, `${base}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  request.end(body);
}

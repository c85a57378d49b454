// The few things the dev proxy needs from the host that its public API (proxy-wasm-as/testing)
// does not offer yet. Every reach into host internals is here, guarded, so a host change breaks
// one file. Wanted from the host, in place of these:
//   - HttpStream: whether each direction's forwarded output is complete (request has
//     `requestComplete`; the response has no equivalent).
//   - (Plugin.pendingHttpCalls/timeoutHttpCall are used when the host has them, as it now does.)
//   - Plugin: run the work posted to its VM from another VM (on_queue_ready) without a callback.

import type { HttpStream, Plugin } from "../host/index.js";
import type { Header } from "../host/index.js";

export interface CalloutRecord {
  token: number;
  upstream: string;
  headers: Header[];
  body: string;
  bodyBytes?: Uint8Array;
  trailers: Header[];
  timeoutMs: number;
}

interface ForwardedInternals {
  headers: Header[] | null;
  body: Uint8Array;
  trailers: Header[] | null;
  complete: boolean;
}

export interface Forwarded {
  headers: Header[] | null;
  body: Uint8Array;
  trailers: Header[] | null;
  complete: boolean;
}

type StreamInternals = { req?: { forwarded?: ForwardedInternals }; resp?: { forwarded?: ForwardedInternals } };
type PluginInternals = { vm?: { httpCalls?: CalloutRecord[]; runPosted?: () => void; failure?: string | null } | null };

/** What one filter passed on in one direction so far. */
export function forwarded(stream: HttpStream, dir: "request" | "response"): Forwarded {
  const internals = stream as unknown as StreamInternals;
  const f = (dir === "request" ? internals.req : internals.resp)?.forwarded;
  if (f && typeof f.complete === "boolean") {
    return { headers: f.headers, body: f.body, trailers: f.trailers, complete: f.complete };
  }
  // Fallback on the public result(): completeness from what is known publicly.
  const result = stream.result();
  const message = dir === "request" ? result.upstreamRequest : result.downstreamResponse;
  const complete = dir === "request" ? stream.requestComplete : result.stopped === "local_response" || result.stopped === "vm_failed";
  return {
    headers: message?.headers ?? null,
    body: message?.bodyBytes ?? new Uint8Array(0),
    trailers: message && message.trailers.length > 0 ? message.trailers : null,
    complete,
  };
}

type CalloutApi = { pendingHttpCalls?: () => CalloutRecord[]; timeoutHttpCall?: (token: number) => boolean };

/** The http_calls waiting for an answer (older hosts: every call made), oldest first. */
export function httpCallsOf(plugin: Plugin): CalloutRecord[] {
  const api = plugin as unknown as CalloutApi;
  if (typeof api.pendingHttpCalls === "function") return api.pendingHttpCalls();
  return (plugin as unknown as PluginInternals).vm?.httpCalls ?? [];
}

/** Envoy's answer to a callout that timed out: 504 "upstream request timeout". */
export function timeoutHttpCall(plugin: Plugin, token: number): void {
  const api = plugin as unknown as CalloutApi;
  if (typeof api.timeoutHttpCall === "function") api.timeoutHttpCall(token);
  else plugin.respondToHttpCall(token, { headers: [[":status", "504"]], body: "upstream request timeout" });
}

/** Runs callbacks posted to the plugin's VM by other VMs (shared queue on_queue_ready). */
export function runPosted(plugin: Plugin): void {
  (plugin as unknown as PluginInternals).vm?.runPosted?.();
}

/** The trap that failed the VM, or null. */
export function vmFailure(plugin: Plugin): string | null {
  return (plugin as unknown as PluginInternals).vm?.failure ?? null;
}

type GrpcApi = {
  grpcCalls?: () => { token: number; upstream: string; serviceName: string; method: string }[];
  failGrpcCall?: (token: number, status: number, message?: string) => boolean;
};

/** gRPC calls and streams the host still tracks (empty on hosts without gRPC). */
export function grpcCallsOf(plugin: Plugin): { token: number; upstream: string; serviceName: string; method: string }[] {
  const api = plugin as unknown as GrpcApi;
  return typeof api.grpcCalls === "function" ? api.grpcCalls() : [];
}

/** Closes a gRPC call with a status (14 UNAVAILABLE) as Envoy does when it cannot route it. */
export function failGrpcCall(plugin: Plugin, token: number, status: number, message: string): void {
  (plugin as unknown as GrpcApi).failGrpcCall?.(token, status, message);
}

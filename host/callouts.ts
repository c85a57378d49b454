// Answers to callouts, delivered on the root context as Envoy does (context.cc onHttpCallSuccess,
// onHttpCallFailure, onGrpcReceiveWrapper, onGrpcCloseWrapper, onGrpcReceive*MetadataWrapper).
// proxy_get_status: a failed HTTP call sets code 11 (BrokenConnection) and message "reset" for
// the callback; afterwards the message is cleared but the code stays (Envoy never resets
// status_code_; a successful response does not touch it). A gRPC close sets the gRPC status and
// message the same way.

import { toBytes } from "./abi/pairs.js";
import type { HostContext, HttpCallRecord } from "./context.js";
import { HeaderMap, type Header } from "./header-map.js";
import type { GrpcCallout, Vm } from "./vm.js";

export interface HttpCallResponse {
  /** Sets `:status` (added in front of `headers`, replacing one given there). */
  status?: number;
  /** Response headers; without `status` and without a `:status` header, `:status: 200` is used. */
  headers?: Header[];
  body?: string | Uint8Array;
  trailers?: Header[];
}

/** What Envoy's router answers when the callout's timeout elapses (AsyncClient onSuccess). */
export const TIMEOUT_RESPONSE: HttpCallResponse = {
  headers: [
    [":status", "504"],
    ["content-length", "24"],
    ["content-type", "text/plain"],
  ],
  body: "upstream request timeout",
};

function responseHeaders(response: HttpCallResponse): HeaderMap {
  const given = response.headers ?? [];
  const headers = new HeaderMap(given, "responseHeaders");
  if (response.status !== undefined) headers.replace(":status", String(response.status));
  else if (headers.getFirst(":status") === undefined) headers.add(":status", "200");
  return headers;
}

/** Envoy onHttpCallSuccess / onHttpCallFailure for one pending call. Returns whether the plugin was called. */
export function deliverHttpCall(vm: Vm, root: HostContext, call: HttpCallRecord, response: HttpCallResponse | null): boolean {
  vm.pendingHttpCalls.delete(call.token);
  if (vm.failure !== null || !vm.has("proxy_on_http_call_response")) return false;
  if (response === null) {
    root.status = { code: 11, message: "reset" };
    vm.call("proxy_on_http_call_response", root, root.id, call.token, 0, 0, 0);
    root.status = { code: root.status.code, message: "" };
    return true;
  }
  const headers = responseHeaders(response);
  const trailers = new HeaderMap(response.trailers ?? [], "responseTrailers");
  const body = toBytes(response.body ?? "");
  root.httpCallResponse = { headers, body, trailers };
  try {
    vm.call("proxy_on_http_call_response", root, root.id, call.token, headers.size, body.length, trailers.size);
  } finally {
    root.httpCallResponse = null;
  }
  return true;
}

/**
 * What a unary gRPC call gets when its timeout elapses: Envoy's gRPC async client runs over the
 * HTTP async client, whose router answers a timed-out gRPC request with a local reply (504
 * "upstream request timeout", trailers-only since the request is gRPC: grpc-status
 * httpToGrpcStatus(504) = 14 Unavailable), which the gRPC client reads as the close status.
 */
export const GRPC_TIMEOUT: GrpcEvent = { kind: "close", status: 14, message: "upstream request timeout" };

export type GrpcEvent =
  | { kind: "initial_metadata"; metadata: Header[] }
  | { kind: "message"; message: Uint8Array }
  | { kind: "trailing_metadata"; metadata: Header[] }
  | { kind: "close"; status: number; message: string };

/**
 * One event from the remote side of a gRPC call or stream. Returns false when Envoy would drop it
 * (the plugin cancelled or closed the call, or the stream's remote side already closed).
 */
export function deliverGrpc(vm: Vm, root: HostContext, token: number, event: GrpcEvent): boolean {
  const callout = vm.grpcCallouts.get(token);
  if (!callout || callout.remoteClosed) return false;
  if (callout.kind === "call" && (event.kind === "initial_metadata" || event.kind === "trailing_metadata")) {
    throw new Error(`gRPC call ${token} is unary: Envoy delivers only its response message or its close`);
  }
  const failed = vm.failure !== null;
  switch (event.kind) {
    case "initial_metadata":
    case "trailing_metadata": {
      const initial = event.kind === "initial_metadata";
      // The async client hands over a response header map and a response trailer map.
      const map = new HeaderMap(event.metadata, initial ? "responseHeaders" : "responseTrailers");
      const name = initial ? "proxy_on_grpc_receive_initial_metadata" : "proxy_on_grpc_receive_trailing_metadata";
      if (failed || !vm.has(name)) return false;
      if (initial) root.grpcInitialMetadata = map;
      else root.grpcTrailingMetadata = map;
      try {
        vm.call(name, root, root.id, token, map.size);
      } finally {
        if (initial) root.grpcInitialMetadata = null;
        else root.grpcTrailingMetadata = null;
      }
      return true;
    }
    case "message": {
      // A unary call is over with its response (onSuccessRaw); a stream goes on.
      if (callout.kind === "call") vm.grpcCallouts.delete(token);
      if (failed || !vm.has("proxy_on_grpc_receive")) return false;
      root.grpcReceiveBuffer = event.message;
      try {
        vm.call("proxy_on_grpc_receive", root, root.id, token, event.message.length);
      } finally {
        root.grpcReceiveBuffer = null;
      }
      return true;
    }
    case "close":
      forgetOnRemoteClose(vm, callout);
      if (failed || !vm.has("proxy_on_grpc_close")) return false;
      root.status = { code: event.status, message: event.message };
      vm.call("proxy_on_grpc_close", root, root.id, token, event.status);
      root.status = { code: root.status.code, message: "" };
      return true;
  }
}

/** Envoy: a call is erased on close; a stream only once it was also closed locally. */
function forgetOnRemoteClose(vm: Vm, callout: GrpcCallout): void {
  if (callout.kind === "call" || callout.localClosed) vm.grpcCallouts.delete(callout.token);
  else callout.remoteClosed = true;
}

import {
  deliverGrpcClose, deliverGrpcInitialMetadata, deliverGrpcReceive, deliverGrpcTrailingMetadata, deliverHttpCallResponse,
} from "../callouts/delivery";
import { GrpcCallResponse, GrpcStream, GrpcStreamHandler } from "../callouts/grpc";
import { setGrpcHooks, setHttpCallHook } from "../callouts/hooks";
import { HttpCallResponse } from "../callouts/http";
import { GrpcCallback, HttpCallback, PendingCall, pendingCalls } from "../callouts/pending";
import { grpcCall, grpcStream, httpCall } from "../hostcalls/callouts";
import { setEffectiveContext } from "../hostcalls/context";
import { Header, serializePairs } from "../pairs";
import { emptyBuffer } from "../runtime/memory";
import { WasmResult } from "../types";
import { encodeUtf8 } from "../utf8";

/** The context the host applies host calls to: the one being called back, unless switched. */
let effectiveContextId: u32 = 0;

/** Called by the dispatcher on entry to every callback: the host resets the effective context there. */
export function enterCallback(contextId: u32): void {
  effectiveContextId = contextId;
}

// @ts-ignore: decorator
@lazy const NO_BYTES = emptyBuffer();

/** A root or stream context, identified by the host's id. */
export abstract class Context {
  /** The next context in its bucket of the SDK's context table (dispatcher/registry.ts). */
  private nextInTable: Context | null = null;

  constructor(readonly id: u32) {}

  /** Makes the host apply the next host calls to this context, so a context can be acted on from another's callback. */
  activate(): void {
    const id = this.id;
    if (effectiveContextId != id && setEffectiveContext(id) == WasmResult.Ok) effectiveContextId = id;
  }

  /**
   * Sends an HTTP request to `cluster` (`headers` must hold :method, :path and :authority, or the host
   * answers BadArgument). `callback` runs later with this context and the response, also when the call
   * fails (then `response.failed`). It is dropped if this context is gone by then.
   * A stream context usually returns StopIteration and resumes in the callback.
   */
  httpCall<C extends Context>(
    cluster: string, headers: Header[], body: ArrayBuffer | null, trailers: Header[], timeoutMs: u32,
    callback: (context: C, response: HttpCallResponse) => void,
  ): WasmResult {
    const dispatched = httpCall(encodeUtf8(cluster), serializePairs(headers), body ? body : NO_BYTES, serializePairs(trailers), timeoutMs);
    if (!dispatched.ok) return dispatched.result;
    setHttpCallHook(deliverHttpCallResponse);
    pendingCalls.set(dispatched.token, new PendingCall(this.id, changetype<HttpCallback>(callback), null, null));
    return dispatched.result;
  }

  /** A unary gRPC call; `callback` gets the response message, or the status when it failed. */
  grpcCall<C extends Context>(
    cluster: string, service: string, method: string, initialMetadata: Header[], message: ArrayBuffer, timeoutMs: u32,
    callback: (context: C, response: GrpcCallResponse) => void,
  ): WasmResult {
    const dispatched = grpcCall(
      encodeUtf8(cluster), encodeUtf8(service), encodeUtf8(method), serializePairs(initialMetadata), message, timeoutMs);
    if (!dispatched.ok) return dispatched.result;
    installGrpcHooks();
    pendingCalls.set(dispatched.token, new PendingCall(this.id, null, changetype<GrpcCallback>(callback), null));
    return dispatched.result;
  }

  /** Opens a gRPC stream whose events go to `handler`; null when the host refuses. */
  openGrpcStream(cluster: string, service: string, method: string, initialMetadata: Header[], handler: GrpcStreamHandler): GrpcStream | null {
    const opened = grpcStream(encodeUtf8(cluster), encodeUtf8(service), encodeUtf8(method), serializePairs(initialMetadata));
    if (!opened.ok) return null;
    installGrpcHooks();
    const stream = new GrpcStream(opened.token, handler);
    pendingCalls.set(opened.token, new PendingCall(this.id, null, null, stream));
    return stream;
  }
}

function installGrpcHooks(): void {
  setGrpcHooks(deliverGrpcInitialMetadata, deliverGrpcReceive, deliverGrpcTrailingMetadata, deliverGrpcClose);
}

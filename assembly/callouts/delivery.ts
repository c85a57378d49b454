// Callout responses. The host delivers them to the root context; each goes to the context that made
// the call, made the effective context first, or is dropped if that context is gone.
import { Context, enterCallback } from "../context/context";
import { anyContext } from "../dispatcher/registry";
import { emptyBuffer } from "../runtime/memory";
import { GrpcStatus } from "../types";
import { closeStatusMessage, GrpcCallResponse, receivedGrpcMessage } from "./grpc";
import { HttpCallResponse } from "./http";
import { PendingCall, pendingCalls, takePendingCall } from "./pending";

/** The caller of a pending call, made effective; null when it is gone. */
function enterCaller(rootContextId: u32, call: PendingCall): Context | null {
  enterCallback(rootContextId);
  const caller = anyContext(call.contextId);
  if (caller) caller.activate();
  return caller;
}

export function deliverHttpCallResponse(rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  const call = takePendingCall(token);
  if (!call || !call.httpCallback) return;
  const caller = enterCaller(rootContextId, call);
  if (caller) call.httpCallback!(caller, new HttpCallResponse(token, numHeaders, bodySize, numTrailers));
}

function peekCall(token: u32): PendingCall | null {
  return pendingCalls.has(token) ? pendingCalls.get(token) : null;
}

export function deliverGrpcInitialMetadata(rootContextId: u32, token: u32, numHeaders: u32): void {
  const call = peekCall(token);
  if (!call || !call.grpcStream || !enterCaller(rootContextId, call)) return;
  const stream = call.grpcStream!;
  stream.handler.onInitialMetadata(stream, numHeaders);
}

export function deliverGrpcReceive(rootContextId: u32, token: u32, messageSize: u32): void {
  const call = peekCall(token);
  if (!call) return;
  const caller = enterCaller(rootContextId, call);
  if (call.grpcStream) {
    const stream = call.grpcStream!;
    if (caller) stream.handler.onMessage(stream, receivedGrpcMessage(messageSize));
    return;
  }
  // A unary call ends with its one message.
  pendingCalls.delete(token);
  if (caller && call.grpcCallback) call.grpcCallback!(caller, new GrpcCallResponse(token, GrpcStatus.Ok, receivedGrpcMessage(messageSize), ""));
}

export function deliverGrpcTrailingMetadata(rootContextId: u32, token: u32, numTrailers: u32): void {
  const call = peekCall(token);
  if (!call || !call.grpcStream || !enterCaller(rootContextId, call)) return;
  const stream = call.grpcStream!;
  stream.handler.onTrailingMetadata(stream, numTrailers);
}

export function deliverGrpcClose(rootContextId: u32, token: u32, statusCode: u32): void {
  const call = takePendingCall(token);
  if (!call) return;
  const caller = enterCaller(rootContextId, call);
  if (!caller) return;
  const status = <GrpcStatus>statusCode;
  if (call.grpcStream) {
    const stream = call.grpcStream!;
    stream.handler.onClose(stream, status, closeStatusMessage());
  } else if (call.grpcCallback) {
    call.grpcCallback!(caller, new GrpcCallResponse(token, status, emptyBuffer(), closeStatusMessage()));
  }
}

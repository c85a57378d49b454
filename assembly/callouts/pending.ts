// Callouts in flight, by token. The host reports every response on the root context, so each token
// remembers the context that made the call; a response for a context that is gone is dropped.
import { Context } from "../context/context";
import { GrpcCallResponse, GrpcStream } from "./grpc";
import { HttpCallResponse } from "./http";

export type HttpCallback = (context: Context, response: HttpCallResponse) => void;
export type GrpcCallback = (context: Context, response: GrpcCallResponse) => void;

export class PendingCall {
  constructor(
    readonly contextId: u32,
    readonly httpCallback: HttpCallback | null,
    readonly grpcCallback: GrpcCallback | null,
    readonly grpcStream: GrpcStream | null,
  ) {}
}

// @ts-ignore: decorator
@lazy export const pendingCalls = new Map<u32, PendingCall>();

/** Takes the call with `token` out of the table; null for an unknown (or already answered) token. */
export function takePendingCall(token: u32): PendingCall | null {
  if (!pendingCalls.has(token)) return null;
  const call = pendingCalls.get(token);
  pendingCalls.delete(token);
  return call;
}

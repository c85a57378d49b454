// Callout callbacks, forwarded to the delivery code that the first callout installed (see callouts/hooks).
import {
  grpcCloseHook, grpcInitialMetadataHook, grpcReceiveHook, grpcTrailingMetadataHook, httpCallResponseHook,
} from "../callouts/hooks";

export function onHttpCallResponse(rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  const hook = httpCallResponseHook;
  if (hook) hook(rootContextId, token, numHeaders, bodySize, numTrailers);
}

export function onGrpcReceiveInitialMetadata(rootContextId: u32, token: u32, numHeaders: u32): void {
  const hook = grpcInitialMetadataHook;
  if (hook) hook(rootContextId, token, numHeaders);
}

export function onGrpcReceive(rootContextId: u32, token: u32, messageSize: u32): void {
  const hook = grpcReceiveHook;
  if (hook) hook(rootContextId, token, messageSize);
}

export function onGrpcReceiveTrailingMetadata(rootContextId: u32, token: u32, numTrailers: u32): void {
  const hook = grpcTrailingMetadataHook;
  if (hook) hook(rootContextId, token, numTrailers);
}

export function onGrpcClose(rootContextId: u32, token: u32, statusCode: u32): void {
  const hook = grpcCloseHook;
  if (hook) hook(rootContextId, token, statusCode);
}

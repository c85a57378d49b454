// The callout callbacks reach their dispatch code through these hooks, which httpCall, grpcCall and
// openGrpcStream set on first use: a plugin that makes no callouts carries none of that code.

export let httpCallResponseHook: ((rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32) => void) | null = null;
export let grpcInitialMetadataHook: ((rootContextId: u32, token: u32, numHeaders: u32) => void) | null = null;
export let grpcReceiveHook: ((rootContextId: u32, token: u32, messageSize: u32) => void) | null = null;
export let grpcTrailingMetadataHook: ((rootContextId: u32, token: u32, numTrailers: u32) => void) | null = null;
export let grpcCloseHook: ((rootContextId: u32, token: u32, statusCode: u32) => void) | null = null;

export function setHttpCallHook(hook: (rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32) => void): void {
  httpCallResponseHook = hook;
}

export function setGrpcHooks(
  initialMetadata: (rootContextId: u32, token: u32, numHeaders: u32) => void,
  receive: (rootContextId: u32, token: u32, messageSize: u32) => void,
  trailingMetadata: (rootContextId: u32, token: u32, numTrailers: u32) => void,
  close: (rootContextId: u32, token: u32, statusCode: u32) => void,
): void {
  grpcInitialMetadataHook = initialMetadata;
  grpcReceiveHook = receive;
  grpcTrailingMetadataHook = trailingMetadata;
  grpcCloseHook = close;
}

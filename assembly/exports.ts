// The Proxy-Wasm ABI exports. A filter's entry file re-exports them with one line:
//   export * from "proxy-wasm-as/assembly/exports";
// The preset's transform (transform/) drops the callbacks the filter's code does not need (a hook it
// does not override, a callout API it does not use): Envoy skips a missing callback with the default
// answer, so each one left out saves a call into wasm per event and its code.
// Each delegates to the dispatcher between callbackStarted and callbackFinished (the collector's safe
// points); integers that mean booleans arrive as u32.
import * as dispatcher from "./dispatcher";
import { callbackFinished, callbackStarted } from "./runtime/collector";
import { allocateForHost } from "./runtime/memory";
import "./runtime/abort";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: usize): usize { return allocateForHost(size); }

// Lifecycle
export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  callbackStarted();
  dispatcher.onContextCreate(contextId, parentContextId);
  callbackFinished(false);
}
export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): u32 {
  callbackStarted();
  const result = <u32>dispatcher.onVmStart(rootContextId, vmConfigurationSize);
  callbackFinished(false);
  return result;
}
export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): u32 {
  callbackStarted();
  const result = <u32>dispatcher.onConfigure(rootContextId, pluginConfigurationSize);
  callbackFinished(false);
  return result;
}
export function proxy_on_done(contextId: u32): u32 {
  callbackStarted();
  const result = <u32>dispatcher.onDone(contextId);
  callbackFinished(false);
  return result;
}
export function proxy_on_log(contextId: u32): void {
  callbackStarted();
  dispatcher.onLog(contextId);
  callbackFinished(false);
}
export function proxy_on_delete(contextId: u32): void {
  callbackStarted();
  dispatcher.onDelete(contextId);
  callbackFinished(true);
}

// HTTP streams
export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  callbackStarted();
  const result = dispatcher.onRequestHeaders(contextId, numHeaders, endOfStream != 0);
  callbackFinished(false);
  return result;
}
export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  callbackStarted();
  const result = dispatcher.onRequestBody(contextId, bodySize, endOfStream != 0);
  callbackFinished(false);
  return result;
}
export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): u32 {
  callbackStarted();
  const result = dispatcher.onRequestTrailers(contextId, numTrailers);
  callbackFinished(false);
  return result;
}
export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  callbackStarted();
  const result = dispatcher.onResponseHeaders(contextId, numHeaders, endOfStream != 0);
  callbackFinished(false);
  return result;
}
export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  callbackStarted();
  const result = dispatcher.onResponseBody(contextId, bodySize, endOfStream != 0);
  callbackFinished(false);
  return result;
}
export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): u32 {
  callbackStarted();
  const result = dispatcher.onResponseTrailers(contextId, numTrailers);
  callbackFinished(false);
  return result;
}

// TCP connections
export function proxy_on_new_connection(contextId: u32): u32 {
  callbackStarted();
  const result = dispatcher.onNewConnection(contextId);
  callbackFinished(false);
  return result;
}
export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  callbackStarted();
  const result = dispatcher.onDownstreamData(contextId, dataSize, endOfStream != 0);
  callbackFinished(false);
  return result;
}
export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  callbackStarted();
  const result = dispatcher.onUpstreamData(contextId, dataSize, endOfStream != 0);
  callbackFinished(false);
  return result;
}
export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  callbackStarted();
  dispatcher.onDownstreamConnectionClose(contextId, peerType);
  callbackFinished(false);
}
export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  callbackStarted();
  dispatcher.onUpstreamConnectionClose(contextId, peerType);
  callbackFinished(false);
}

// Root context events
export function proxy_on_tick(rootContextId: u32): void {
  callbackStarted();
  dispatcher.onTick(rootContextId);
  callbackFinished(false);
}
export function proxy_on_queue_ready(rootContextId: u32, queueId: u32): void {
  callbackStarted();
  dispatcher.onQueueReady(rootContextId, queueId);
  callbackFinished(false);
}
export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, argsSize: u32): void {
  callbackStarted();
  dispatcher.onForeignFunction(rootContextId, functionId, argsSize);
  callbackFinished(false);
}

// Callouts
export function proxy_on_http_call_response(rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  callbackStarted();
  dispatcher.onHttpCallResponse(rootContextId, token, numHeaders, bodySize, numTrailers);
  callbackFinished(false);
}
export function proxy_on_grpc_receive_initial_metadata(rootContextId: u32, token: u32, numHeaders: u32): void {
  callbackStarted();
  dispatcher.onGrpcReceiveInitialMetadata(rootContextId, token, numHeaders);
  callbackFinished(false);
}
export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  callbackStarted();
  dispatcher.onGrpcReceive(rootContextId, token, messageSize);
  callbackFinished(false);
}
export function proxy_on_grpc_receive_trailing_metadata(rootContextId: u32, token: u32, numTrailers: u32): void {
  callbackStarted();
  dispatcher.onGrpcReceiveTrailingMetadata(rootContextId, token, numTrailers);
  callbackFinished(false);
}
export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  callbackStarted();
  dispatcher.onGrpcClose(rootContextId, token, statusCode);
  callbackFinished(false);
}

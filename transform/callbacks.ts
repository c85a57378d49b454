// Which Proxy-Wasm callbacks a filter needs. Envoy (proxy-wasm-cpp-host) calls only the callbacks a
// module exports and gives a missing one its default answer: on_vm_start and on_done true, the header,
// body, data and trailer callbacks Continue, the others nothing. The SDK's hooks answer the same by
// default, so a callback whose hook no user code overrides can go, saving a call into wasm per event
// and its code.

/**
 * Exported by every filter: the ABI marker, the allocator, and the lifecycle the SDK runs itself
 * (on_configure fails when the module has no root context for the plugin).
 */
const ALWAYS_EXPORTED = new Set([
  "proxy_abi_version_0_2_1",
  "proxy_on_memory_allocate",
  "proxy_on_context_create",
  "proxy_on_configure",
]);

/** Where the SDK frees a context: needed unless every stream shares its root's context (shared-contexts.ts). */
export const ON_DELETE = "proxy_on_delete";

/** The API whose responses arrive in proxy_on_http_call_response. */
const HTTP_CALLOUT_NAMES = ["httpCall", "HttpCallResponse"];

/** The API whose responses arrive in the four gRPC callbacks, with the hooks of a stream's handler. */
const GRPC_NAMES = [
  "grpcCall", "GrpcCallResponse", "openGrpcStream", "GrpcStream", "GrpcStreamHandler",
  "onInitialMetadata", "onMessage", "onTrailingMetadata", "onClose",
];

/** The other callbacks, each with the names whose presence in user code means it is needed: the hook it calls, or the API it answers. */
const NEEDED_WHEN_USED: Record<string, string[]> = {
  proxy_on_vm_start: ["onVmStart"],
  proxy_on_done: ["onDone"],
  proxy_on_log: ["onLog"],
  proxy_on_request_headers: ["onRequestHeaders"],
  proxy_on_request_body: ["onRequestBody"],
  proxy_on_request_trailers: ["onRequestTrailers"],
  proxy_on_response_headers: ["onResponseHeaders"],
  proxy_on_response_body: ["onResponseBody"],
  proxy_on_response_trailers: ["onResponseTrailers"],
  proxy_on_new_connection: ["onNewConnection"],
  proxy_on_downstream_data: ["onDownstreamData"],
  proxy_on_upstream_data: ["onUpstreamData"],
  proxy_on_downstream_connection_close: ["onDownstreamConnectionClose"],
  proxy_on_upstream_connection_close: ["onUpstreamConnectionClose"],
  proxy_on_tick: ["onTick"],
  proxy_on_queue_ready: ["onQueueReady"],
  proxy_on_foreign_function: ["onForeignFunction"],
  proxy_on_http_call_response: HTTP_CALLOUT_NAMES,
  proxy_on_grpc_receive_initial_metadata: GRPC_NAMES,
  proxy_on_grpc_receive: GRPC_NAMES,
  proxy_on_grpc_receive_trailing_metadata: GRPC_NAMES,
  proxy_on_grpc_close: GRPC_NAMES,
};

/**
 * Whether the SDK's export `name` stays, given every identifier of the user's code and whether the SDK
 * needs proxy_on_delete. A name that is not a known callback stays; so does a callback the user's code names
 * itself (an explicit re-export).
 */
export function isCallbackNeeded(name: string, userIdentifiers: Set<string>, deletes = true): boolean {
  if (name === ON_DELETE) return deletes;
  const uses = NEEDED_WHEN_USED[name];
  if (ALWAYS_EXPORTED.has(name) || !uses || userIdentifiers.has(name)) return true;
  return uses.some((use) => userIdentifiers.has(use));
}

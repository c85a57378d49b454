// proxy-wasm-as/testing: run a Proxy-Wasm filter in Node as strictly as Envoy would.
//
//   const plugin = createPlugin("build/plugin.wasm", { configuration: '{"header":"x"}' });
//   assert.ok(plugin.start().ok);
//   const result = plugin.runHttpRequest({ requestHeaders: [[":path", "/"]] });
//   assert.equal(result.stopped, null);
//
// See host/README.md for the whole API.

import { Plugin } from "./plugin.js";
import type { PluginOptions } from "./plugin-options.js";

export { Plugin };
export type {
  GrpcCallInfo,
  HttpCallAnswer,
  HttpCallResponse,
  MetricValue,
  PendingHttpCall,
  PluginOptions,
  RequestSpec,
  SharedDataValue,
  ShutdownResult,
  StartResult,
  TcpSpec,
  WorkerInfo,
} from "./plugin-options.js";
export type { FailurePolicyName } from "./failure-policy.js";
export type { Forwarded, HttpStream } from "./http-stream.js";
export type { TcpConnection, TcpPhase, TcpPhaseName, TcpResult } from "./tcp-connection.js";
export type { Header, HeaderBytes, HeaderInput } from "./header-map.js";
export type { PropertyScalar, PropertyValue } from "./properties.js";
export type { TimeInput } from "./clock.js";
export type { ForeignFunction, ForeignFunctionResult } from "./vm.js";
export type { HttpCallInfo, LocalResponse, LogEntry, Message, Phase, RequestResult } from "./results.js";
export { checkModule, type ModuleCheck } from "./module.js";
export { resetSharedState } from "./shared-state.js";
export { encodePairs, decodePairs } from "./abi/pairs.js";
export { WasmResult } from "./abi/enums.js";
export { TIMEOUT_RESPONSE } from "./callouts.js";
export { loadRecording, RecordingError, type Recording, type RecordedExchange, type RecordedFixture } from "./recording.js";

/** Never throws for a bad module: start() reports it. */
export function createPlugin(wasm: Uint8Array | string, options: PluginOptions = {}): Plugin {
  return new Plugin(wasm, options);
}

// Non-proxy env imports that cpp-host (wasm.cc registerCallbacks) and Envoy (wasm.cc) offer.

import { WasmResult } from "../abi/enums.js";
import type { HostFns } from "./types.js";

export const extraImports: HostFns = {
  pthread_equal: (_vm, a: number, b: number) => (a === b ? 1 : 0),
  emscripten_notify_memory_growth: () => undefined,
  // Envoy resolves through its DNS resolver and answers via envoy_on_resolve_dns; no resolver here.
  envoy_resolve_dns: () => WasmResult.Unimplemented,
};

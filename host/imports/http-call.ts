// proxy_http_call (cpp-host exports.cc runs it on the ROOT context; Envoy context.cc httpCall):
// negative timeout, unknown cluster, or missing :path/:method/:authority are BAD_ARGUMENT.

import { WasmResult } from "../abi/enums.js";
import { decodePairs } from "../abi/pairs.js";
import { utf8, type HostFns } from "./types.js";

export const httpCallImports: HostFns = {
  proxy_http_call(vm, upPtr: number, upLen: number, hPtr: number, hLen: number, bPtr: number, bLen: number, tPtr: number, tLen: number, timeoutMs: number, tokenPtr: number) {
    const upstream = vm.memory.read(upPtr, upLen);
    const body = vm.memory.read(bPtr, bLen);
    const headerBytes = vm.memory.read(hPtr, hLen);
    const trailerBytes = vm.memory.read(tPtr, tLen);
    if (!upstream || !body || !headerBytes || !trailerBytes) return WasmResult.InvalidMemoryAccess;
    if (!vm.memory.writeU32(tokenPtr, 0)) return WasmResult.InvalidMemoryAccess;
    if (timeoutMs < 0) return WasmResult.BadArgument;
    const cluster = utf8(upstream);
    if (!vm.knowsCluster(cluster)) return WasmResult.BadArgument;
    const headers = decodePairs(headerBytes);
    const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
    if (!has(":path") || !has(":method") || !has(":authority")) return WasmResult.BadArgument;
    const token = vm.counters.take("httpCall");
    // Envoy: a timeout of 0 means none; otherwise the router answers 504 when it elapses.
    const timeout = timeoutMs >>> 0;
    vm.recordHttpCall({
      token,
      upstream: cluster,
      headers,
      body: utf8(body),
      bodyBytes: body.slice(),
      trailers: decodePairs(trailerBytes),
      timeoutMs: timeout,
      contextId: vm.effective.id,
      pending: true,
      dueAtMs: timeout > 0 ? vm.clock.elapsedMs + timeout : null,
      outcome: null,
    });
    vm.memory.writeU32(tokenPtr, token);
    return WasmResult.Ok;
  },
};

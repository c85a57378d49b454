// proxy_http_call (cpp-host exports.cc runs it on the ROOT context; Envoy context.cc httpCall):
// a negative timeout, an unknown cluster, or a request without :path, :method or :authority is
// BAD_ARGUMENT, checked in that order. The headers become a request header map (inline headers
// comma-joined, "host" read as :authority); a non-empty body sets content-length.
// A refusal is logged in one line saying why (the question every SDK's issue tracker gets).

import { WasmResult } from "../abi/enums.js";
import { decodePairs } from "../abi/pairs.js";
import { HeaderMap } from "../header-map.js";
import type { Vm } from "../vm.js";
import { utf8, type HostFns } from "./types.js";

const WARN = 3;
const REQUIRED = [":method", ":path", ":authority"];

export const httpCallImports: HostFns = {
  proxy_http_call(vm, upPtr: number, upLen: number, hPtr: number, hLen: number, bPtr: number, bLen: number, tPtr: number, tLen: number, timeoutMs: number, tokenPtr: number) {
    const upstream = vm.memory.read(upPtr, upLen);
    const body = vm.memory.read(bPtr, bLen);
    const headerBytes = vm.memory.read(hPtr, hLen);
    const trailerBytes = vm.memory.read(tPtr, tLen);
    if (!upstream || !body || !headerBytes || !trailerBytes) return WasmResult.InvalidMemoryAccess;
    if (!vm.memory.writeU32(tokenPtr, 0)) return WasmResult.InvalidMemoryAccess;
    const cluster = utf8(upstream);
    const pairs = decodePairs(headerBytes);
    const headers = new HeaderMap(pairs, "requestHeaders");
    const problems = refusalReasons(vm, cluster, headers, timeoutMs, headerBytes.length > 0 && pairs.length === 0);
    if (problems.length > 0) {
      vm.log(WARN, `host: proxy_http_call to "${cluster}" refused with BadArgument: ${problems.join("; ")}`);
      return WasmResult.BadArgument;
    }
    if (body.length > 0) headers.replace("content-length", String(body.length));
    const token = vm.counters.take("httpCall");
    // Envoy: a timeout of 0 means none; otherwise the router answers 504 when it elapses.
    const timeout = timeoutMs >>> 0;
    vm.recordHttpCall({
      token,
      upstream: cluster,
      headers: headers.toArray(),
      body: utf8(body),
      bodyBytes: body.slice(),
      trailers: new HeaderMap(decodePairs(trailerBytes), "requestTrailers").toArray(),
      timeoutMs: timeout,
      contextId: vm.effective.id,
      rootId: vm.effective.root.id,
      dueAtMs: timeout > 0 ? vm.clock.elapsedMs + timeout : null,
    });
    vm.memory.writeU32(tokenPtr, token);
    return WasmResult.Ok;
  },
};

/** Every reason Envoy's httpCall would refuse this call (it stops at the first). */
function refusalReasons(vm: Vm, cluster: string, headers: HeaderMap, timeoutMs: number, malformed: boolean): string[] {
  const problems: string[] = [];
  if (timeoutMs < 0) problems.push(`negative timeout ${timeoutMs} ms (0 means none)`);
  if (!vm.knowsCluster(cluster)) {
    const known = vm.config.clusters;
    if (cluster.length === 0) problems.push("no cluster named");
    else problems.push(`unknown cluster "${cluster}" (known: ${known && known.length > 0 ? known.map((c) => `"${c}"`).join(", ") : "none"})`);
  }
  const missing = REQUIRED.filter((name) => headers.getFirst(name) === undefined);
  if (missing.length > 0) {
    const why = malformed ? " (the headers are not a valid pairs serialization, so Envoy sees none)" : "";
    problems.push(`missing ${missing.join(", ")} header${missing.length > 1 ? "s" : ""}${why}`);
  }
  return problems;
}

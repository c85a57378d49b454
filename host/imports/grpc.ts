// gRPC callouts (cpp-host exports.cc runs them on the ROOT context; Envoy context.cc grpcCall/
// grpcStream/grpcSend/grpcClose/grpcCancel). Calls get tokens 5, 9, ... and streams 6, 10, ....
// The service is a serialized GrpcService or a cluster name; an unknown cluster is PARSE_FAILURE.
// close on a unary call cancels it; close on a stream half-closes it (the remote side may still
// answer); cancel resets either, after which nothing more is delivered.

import { WasmResult } from "../abi/enums.js";
import { decodePairs } from "../abi/pairs.js";
import { GRPC_MESSAGES_KEPT, type Vm } from "../vm.js";
import { utf8, type HostFns } from "./types.js";

const isCall = (t: number) => (t & 3) === 1;
const isStream = (t: number) => (t & 3) === 2;

function open(vm: Vm, kind: "grpcCall" | "grpcStream", parts: (Uint8Array | null)[], timeoutMs: number, tokenPtr: number): number {
  if (parts.some((p) => p === null)) return WasmResult.InvalidMemoryAccess;
  const [service, serviceName, method, metadata, message] = parts as Uint8Array[];
  if (!vm.knowsCluster(utf8(service))) {
    const known = vm.config.clusters?.map((c) => `"${c}"`).join(", ") || "none";
    const why = service.length === 0 ? "no cluster named" : `unknown cluster (known: ${known})`;
    vm.log(3, `host: proxy_${kind === "grpcCall" ? "grpc_call" : "grpc_stream"} to "${utf8(service)}" refused with ParseFailure: ${why}`);
    return WasmResult.ParseFailure;
  }
  const token = vm.counters.take(kind);
  vm.recordGrpcCall({
    token,
    kind: kind === "grpcCall" ? "call" : "stream",
    service: utf8(service),
    serviceName: utf8(serviceName),
    method: utf8(method),
    metadata: decodePairs(metadata),
    messages: message ? [message.slice()] : [],
    messagesSent: message ? 1 : 0,
    timeoutMs,
    // Envoy grpcCall: the timeout is the async client's route timeout (0: none).
    dueAtMs: kind === "grpcCall" && timeoutMs > 0 ? vm.clock.elapsedMs + timeoutMs : null,
    contextId: vm.effective.id,
    rootId: vm.effective.root.id,
    localClosed: false,
    remoteClosed: false,
  });
  return vm.memory.writeU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
}

export const grpcImports: HostFns = {
  proxy_grpc_call(vm, sP, sL, nP, nL, mP, mL, mdP, mdL, msgP, msgL, timeoutMs: number, tokenPtr) {
    const m = vm.memory;
    return open(vm, "grpcCall", [m.read(sP, sL), m.read(nP, nL), m.read(mP, mL), m.read(mdP, mdL), m.read(msgP, msgL)], timeoutMs >>> 0, tokenPtr);
  },
  proxy_grpc_stream(vm, sP, sL, nP, nL, mP, mL, mdP, mdL, tokenPtr) {
    const m = vm.memory;
    return open(vm, "grpcStream", [m.read(sP, sL), m.read(nP, nL), m.read(mP, mL), m.read(mdP, mdL)], 0, tokenPtr);
  },
  proxy_grpc_send(vm, token: number, msgPtr: number, msgLen: number, _endStream: number) {
    const message = vm.memory.read(msgPtr, msgLen);
    if (message === null) return WasmResult.InvalidMemoryAccess;
    if (!isStream(token >>> 0)) return WasmResult.BadArgument;
    const callout = vm.grpcCallouts.get(token >>> 0);
    if (!callout) return WasmResult.NotFound;
    callout.messages.push(message.slice());
    if (callout.messages.length > GRPC_MESSAGES_KEPT) callout.messages.shift();
    callout.messagesSent++;
    return WasmResult.Ok;
  },
  proxy_grpc_cancel(vm, token: number) {
    const t = token >>> 0;
    if (!isCall(t) && !isStream(t)) return WasmResult.BadArgument;
    return vm.grpcCallouts.delete(t) ? WasmResult.Ok : WasmResult.NotFound;
  },
  proxy_grpc_close(vm, token: number) {
    const t = token >>> 0;
    if (!isCall(t) && !isStream(t)) return WasmResult.BadArgument;
    const callout = vm.grpcCallouts.get(t);
    if (!callout) return WasmResult.NotFound;
    // A unary call is cancelled; a stream is half-closed and forgotten once both sides closed.
    if (callout.kind === "call" || callout.remoteClosed) vm.grpcCallouts.delete(t);
    else callout.localClosed = true;
    return WasmResult.Ok;
  },
};

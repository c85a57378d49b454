// proxy_continue_stream / proxy_close_stream / proxy_send_local_response
// (cpp-host exports.cc; Envoy context.cc continueStream, closeStream, sendLocalResponse).
// The stream applies these after the callback returns, as Envoy defers them.

import { MAX_STREAM_TYPE, StreamType, WasmResult } from "../abi/enums.js";
import { decodePairs } from "../abi/pairs.js";
import { utf8, type HostFns } from "./types.js";

export const streamImports: HostFns = {
  proxy_continue_stream(vm, type: number) {
    if (type >>> 0 > MAX_STREAM_TYPE) return WasmResult.BadArgument;
    const stream = vm.effective.stream ?? vm.effective.network;
    if (stream) return stream.continueStream(type >>> 0);
    // A root context has no decoder/encoder callbacks: Envoy answers OK, except UPSTREAM.
    return type >>> 0 === StreamType.Upstream ? WasmResult.Unimplemented : WasmResult.Ok;
  },
  proxy_close_stream(vm, type: number) {
    if (type >>> 0 > MAX_STREAM_TYPE) return WasmResult.BadArgument;
    return (vm.effective.stream ?? vm.effective.network)?.closeStream(type >>> 0) ?? WasmResult.Ok;
  },
  proxy_send_local_response(
    vm,
    status: number,
    detailsPtr: number,
    detailsLen: number,
    bodyPtr: number,
    bodyLen: number,
    headersPtr: number,
    headersLen: number,
    grpcStatus: number,
  ) {
    const details = vm.memory.view(detailsPtr, detailsLen);
    const body = vm.memory.read(bodyPtr, bodyLen); // kept by the reply
    const headers = vm.memory.view(headersPtr, headersLen);
    if (details === null || body === null || headers === null) return WasmResult.InvalidMemoryAccess;
    vm.effective.stream?.sendLocalResponse({
      status: status >>> 0,
      body,
      headers: decodePairs(headers),
      // Envoy: StringUtil::replaceAllEmptySpace(details).
      details: utf8(details).replace(/\s/g, "_"),
      // Only 0..16 are sent as grpc-status; -1 (and anything else) means none.
      grpcStatus: grpcStatus >= 0 && grpcStatus <= 16 ? grpcStatus : null,
    });
    vm.stopNextIteration = true;
    return WasmResult.Ok;
  },
};

// Stream control host calls.
import { proxy_close_stream, proxy_continue_stream, proxy_send_local_response } from "../abi/imports";
import { byteLengthOf } from "../runtime/memory";
import { GrpcStatus, StreamType, WasmResult } from "../types";

export function continueStream(type: StreamType): WasmResult {
  return proxy_continue_stream(type);
}

export function closeStream(type: StreamType): WasmResult {
  return proxy_close_stream(type);
}

export function sendLocalResponse(status: u32, details: ArrayBuffer, body: ArrayBuffer, headerPairs: ArrayBuffer, grpcStatus: GrpcStatus): WasmResult {
  return proxy_send_local_response(
    status, changetype<usize>(details), byteLengthOf(details), changetype<usize>(body), byteLengthOf(body),
    changetype<usize>(headerPairs), byteLengthOf(headerPairs), grpcStatus);
}

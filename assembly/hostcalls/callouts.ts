// HTTP and gRPC callout host calls. Each dispatch returns a token in the out-value slot.
import {
  proxy_get_status, proxy_grpc_call, proxy_grpc_cancel, proxy_grpc_close, proxy_grpc_send, proxy_grpc_stream, proxy_http_call,
} from "../abi/imports";
import { outPointer, outSize, outValue, resetOutSlots, takeHostBuffer } from "../runtime/memory";
import { WasmResult } from "../types";
import { decodeUtf8 } from "../utf8";

/** A host call's status with the token it issued (0 when it failed). */
export class TokenResult {
  constructor(readonly result: WasmResult, readonly token: u32) {}
  get ok(): bool { return this.result == WasmResult.Ok; }
}

function tokenResult(result: WasmResult): TokenResult {
  return new TokenResult(result, result == WasmResult.Ok ? load<u32>(outValue()) : 0);
}

export function httpCall(upstream: ArrayBuffer, headerPairs: ArrayBuffer, body: ArrayBuffer, trailerPairs: ArrayBuffer, timeoutMs: u32): TokenResult {
  return tokenResult(proxy_http_call(
    changetype<usize>(upstream), upstream.byteLength, changetype<usize>(headerPairs), headerPairs.byteLength,
    changetype<usize>(body), body.byteLength, changetype<usize>(trailerPairs), trailerPairs.byteLength, timeoutMs, outValue()));
}

export function grpcCall(upstream: ArrayBuffer, service: ArrayBuffer, method: ArrayBuffer, metadataPairs: ArrayBuffer, message: ArrayBuffer, timeoutMs: u32): TokenResult {
  return tokenResult(proxy_grpc_call(
    changetype<usize>(upstream), upstream.byteLength, changetype<usize>(service), service.byteLength,
    changetype<usize>(method), method.byteLength, changetype<usize>(metadataPairs), metadataPairs.byteLength,
    changetype<usize>(message), message.byteLength, timeoutMs, outValue()));
}

export function grpcStream(upstream: ArrayBuffer, service: ArrayBuffer, method: ArrayBuffer, metadataPairs: ArrayBuffer): TokenResult {
  return tokenResult(proxy_grpc_stream(
    changetype<usize>(upstream), upstream.byteLength, changetype<usize>(service), service.byteLength,
    changetype<usize>(method), method.byteLength, changetype<usize>(metadataPairs), metadataPairs.byteLength, outValue()));
}

export function grpcSend(token: u32, message: ArrayBuffer, endOfStream: bool): WasmResult {
  return proxy_grpc_send(token, changetype<usize>(message), message.byteLength, endOfStream);
}

export function grpcCancel(token: u32): WasmResult {
  return proxy_grpc_cancel(token);
}

export function grpcClose(token: u32): WasmResult {
  return proxy_grpc_close(token);
}

/** The status of the callout or gRPC stream being reported: a code and a message. */
export class CallStatus {
  constructor(readonly code: u32, readonly message: string) {}
}

export function getStatus(): CallStatus {
  resetOutSlots();
  if (proxy_get_status(outValue(), outPointer(), outSize()) != WasmResult.Ok) return new CallStatus(WasmResult.InternalFailure, "");
  const code = load<u32>(outValue());
  return new CallStatus(code, decodeUtf8(takeHostBuffer()));
}

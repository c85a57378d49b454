// proxy_get_buffer_bytes / proxy_set_buffer_bytes / proxy_get_buffer_status
// (cpp-host exports.cc; Envoy context.cc getBuffer and Buffer::copyFrom).

import { BufferType, MAX_BUFFER_TYPE, WasmResult } from "../abi/enums.js";
import type { BodyBuffer, HostContext } from "../context.js";
import { EMPTY_BYTES } from "../text.js";
import type { Vm } from "../vm.js";
import type { HostFns } from "./types.js";

const EMPTY: BodyBuffer = { bytes: EMPTY_BYTES, mutable: false };
const immutable = (bytes: Uint8Array): BodyBuffer => ({ bytes, mutable: false });

/** The message of the current on_grpc_receive, as the buffer the module reads and writes. */
const grpcBuffers = new WeakMap<Uint8Array, BodyBuffer>();

/** Envoy Context::getBuffer(): null means NOT_FOUND. */
export function getBuffer(vm: Vm, ctx: HostContext, type: BufferType): BodyBuffer | null {
  switch (type) {
    case BufferType.VmConfiguration:
      return immutable(vm.config.vmConfiguration);
    case BufferType.PluginConfiguration:
      // Only while cpp-host holds temp_plugin_ (root on_context_create and on_configure).
      return ctx.tempPluginConfiguration ? immutable(ctx.tempPluginConfiguration) : null;
    case BufferType.HttpRequestBody:
    case BufferType.HttpResponseBody:
      // Envoy returns a (possibly empty) buffer here, never NOT_FOUND.
      return ctx.stream?.body(type) ?? EMPTY;
    case BufferType.DownstreamData:
    case BufferType.UpstreamData:
      // Envoy buffer_.set(network_*_data_buffer_): an empty buffer when there is none.
      return ctx.network?.data(type) ?? EMPTY;
    case BufferType.HttpCallResponseBody: {
      const response = ctx.root.httpCallResponse;
      return response ? immutable(response.body) : null;
    }
    case BufferType.GrpcReceiveBuffer: {
      // Envoy hands over the received message's own (mutable) buffer: writes are allowed.
      const buffer = ctx.root.grpcReceiveBuffer;
      if (!buffer) return EMPTY;
      let live = grpcBuffers.get(buffer);
      if (!live) grpcBuffers.set(buffer, (live = { bytes: buffer, mutable: true }));
      return live;
    }
    case BufferType.CallData:
      return immutable(ctx.root.callData ?? EMPTY_BYTES);
  }
  return null;
}

/**
 * Envoy Buffer::copyFrom (context.cc) on a live buffer: start 0 drains `size` bytes (all of
 * them when size >= len) and prepends the data, so (0,0) prepends, (0,len) replaces all and
 * (0,n<len) replaces the first n bytes (envoy#17280); start >= len appends. Any other start,
 * and any write to an immutable buffer (call response, configuration), is BAD_ARGUMENT.
 */
export function writeBuffer(buffer: BodyBuffer, start: number, size: number, data: Uint8Array): WasmResult {
  if (!buffer.mutable) return WasmResult.BadArgument;
  const bytes = buffer.bytes;
  if (start === 0) buffer.bytes = concat(data, bytes.subarray(Math.min(size, bytes.length)));
  else if (start >= bytes.length) buffer.bytes = concat(bytes, data);
  else return WasmResult.BadArgument;
  return WasmResult.Ok;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export const bufferImports: HostFns = {
  proxy_get_buffer_bytes(vm, type: number, start: number, maxSize: number, ptrPtr: number, sizePtr: number) {
    if (type >>> 0 > MAX_BUFFER_TYPE) return WasmResult.BadArgument;
    const buffer = getBuffer(vm, vm.effective, type >>> 0);
    if (buffer === null) return WasmResult.NotFound;
    const from = start >>> 0;
    const bytes = buffer.bytes;
    // Clamp to the buffer like cpp-host ("Don't overread").
    const slice = from > bytes.length ? EMPTY_BYTES : bytes.subarray(from, Math.min(bytes.length, from + (maxSize >>> 0)));
    return vm.copyOut(slice, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_set_buffer_bytes(vm, type: number, start: number, size: number, dataPtr: number, dataLen: number) {
    if (type >>> 0 > MAX_BUFFER_TYPE) return WasmResult.BadArgument;
    const buffer = getBuffer(vm, vm.effective, type >>> 0);
    if (buffer === null) return WasmResult.NotFound;
    const data = vm.memory.view(dataPtr, dataLen); // writeBuffer copies it
    if (data === null) return WasmResult.InvalidMemoryAccess;
    return writeBuffer(buffer, start >>> 0, size >>> 0, data);
  },
  proxy_get_buffer_status(vm, type: number, sizePtr: number, flagsPtr: number) {
    if (type >>> 0 > MAX_BUFFER_TYPE) return WasmResult.BadArgument;
    const buffer = getBuffer(vm, vm.effective, type >>> 0);
    if (buffer === null) return WasmResult.NotFound;
    if (!vm.memory.writeU32(sizePtr, buffer.bytes.length)) return WasmResult.InvalidMemoryAccess;
    return vm.memory.writeU32(flagsPtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

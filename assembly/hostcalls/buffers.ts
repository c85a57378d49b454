// Buffer host calls: bodies, configuration, call responses.
import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "../abi/imports";
import { outPointer, outSize, outValue, resetOutSlots, takeHostBuffer } from "../runtime/memory";
import { BufferType, WasmResult } from "../types";

/** Reads up to `maxSize` bytes from `start`; null when the buffer is not available in this callback. */
export function getBufferBytes(type: BufferType, start: u32, maxSize: u32): ArrayBuffer | null {
  resetOutSlots();
  if (proxy_get_buffer_bytes(type, start, maxSize, outPointer(), outSize()) != WasmResult.Ok) return null;
  return takeHostBuffer();
}

/** Writes `data` over `size` bytes at `start`. Envoy allows prepend (0, 0), replace-all (0, >= length) and append (start >= length). */
export function setBufferBytes(type: BufferType, start: u32, size: u32, data: ArrayBuffer): WasmResult {
  return proxy_set_buffer_bytes(type, start, size, changetype<usize>(data), data.byteLength);
}

/** The buffer's current length, or -1 when it is not available. */
export function getBufferSize(type: BufferType): i64 {
  if (proxy_get_buffer_status(type, outSize(), outValue()) != WasmResult.Ok) return -1;
  return load<u32>(outSize());
}

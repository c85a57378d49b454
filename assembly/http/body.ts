import { getBufferBytes, getBufferSize, setBufferBytes } from "../hostcalls/buffers";
import { emptyBuffer } from "../runtime/memory";
import { BufferType, WasmResult } from "../types";
import { decodeUtf8, encodeUtf8 } from "../utf8";

/**
 * A body buffer of the stream. In a body callback it holds what has arrived so far: the chunk, or
 * everything buffered since the filter returned StopIterationAndBuffer.
 * Envoy can only prepend, append or replace the whole live buffer.
 */
export class Body {
  constructor(readonly type: BufferType) {}

  /** Up to `length` bytes from `start`; empty when the body is not available in this callback. */
  read(start: u32 = 0, length: u32 = u32.MAX_VALUE): ArrayBuffer {
    const bytes = getBufferBytes(this.type, start, length);
    return bytes ? bytes : emptyBuffer();
  }

  /** The bytes from `start` as UTF-8 text. */
  readString(start: u32 = 0, length: u32 = u32.MAX_VALUE): string {
    return decodeUtf8(this.read(start, length));
  }

  /** The buffer's current length, or -1 when it is not available. */
  size(): i64 {
    return getBufferSize(this.type);
  }

  replace(data: ArrayBuffer): WasmResult {
    const size = getBufferSize(this.type);
    if (size < 0) return WasmResult.NotFound;
    // (0, length) replaces the whole buffer in Envoy; on an empty buffer (0, 0) prepends, which is the same.
    return setBufferBytes(this.type, 0, <u32>size, data);
  }

  replaceString(text: string): WasmResult {
    return this.replace(encodeUtf8(text));
  }

  append(data: ArrayBuffer): WasmResult {
    return setBufferBytes(this.type, u32.MAX_VALUE, 0, data);
  }

  appendString(text: string): WasmResult {
    return this.append(encodeUtf8(text));
  }

  prepend(data: ArrayBuffer): WasmResult {
    return setBufferBytes(this.type, 0, 0, data);
  }

  prependString(text: string): WasmResult {
    return this.prepend(encodeUtf8(text));
  }
}

// @ts-ignore: decorator
@lazy export const requestBody = new Body(BufferType.HttpRequestBody);
// @ts-ignore: decorator
@lazy export const responseBody = new Body(BufferType.HttpResponseBody);

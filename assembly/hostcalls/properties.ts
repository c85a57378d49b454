// Property host calls. A path is its segments joined by NUL bytes.
import { proxy_get_property, proxy_set_property } from "../abi/imports";
import { outPointer, outSize, resetOutSlots, takeHostBuffer } from "../runtime/memory";
import { WasmResult } from "../types";

/** The raw value at `path`, or null when the host has none. */
export function getProperty(path: ArrayBuffer): ArrayBuffer | null {
  resetOutSlots();
  if (proxy_get_property(changetype<usize>(path), path.byteLength, outPointer(), outSize()) != WasmResult.Ok) return null;
  return takeHostBuffer();
}

export function setProperty(path: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return proxy_set_property(changetype<usize>(path), path.byteLength, changetype<usize>(value), value.byteLength);
}

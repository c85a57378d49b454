// Header map host calls. Keys and values are bytes; the pairs encoding is in ../pairs.
import {
  proxy_add_header_map_value, proxy_get_header_map_pairs, proxy_get_header_map_size, proxy_get_header_map_value,
  proxy_remove_header_map_value, proxy_replace_header_map_value, proxy_set_header_map_pairs,
} from "../abi/imports";
import { byteLengthOf, emptyBuffer, lendScratchToHost, outPointer, outSize, resetOutSlots, takeHostBuffer, takeLentBuffer } from "../runtime/memory";
import { MapType, WasmResult } from "../types";

/**
 * The serialized pairs of a map (empty when the map is absent or empty), in a buffer the SDK reuses: valid
 * until the next such read, for callers that copy what they keep and then `releaseLentBuffer`.
 */
export function readHeaderMapPairs(type: MapType): ArrayBuffer {
  lendScratchToHost();
  const ok = proxy_get_header_map_pairs(type, outPointer(), outSize()) == WasmResult.Ok;
  const pairs = takeLentBuffer();
  return ok ? pairs : emptyBuffer();
}

export function setHeaderMapPairs(type: MapType, pairs: ArrayBuffer): WasmResult {
  return proxy_set_header_map_pairs(type, changetype<usize>(pairs), byteLengthOf(pairs));
}

/** The first value of `key`, or null when absent, in the buffer `readHeaderMapPairs` reuses. */
export function readHeaderMapValue(type: MapType, key: ArrayBuffer): ArrayBuffer | null {
  lendScratchToHost();
  const ok = proxy_get_header_map_value(type, changetype<usize>(key), byteLengthOf(key), outPointer(), outSize()) == WasmResult.Ok;
  const value = takeLentBuffer();
  return ok ? value : null;
}

/** The first value of `key`, or null when absent. */
export function getHeaderMapValue(type: MapType, key: ArrayBuffer): ArrayBuffer | null {
  resetOutSlots();
  if (proxy_get_header_map_value(type, changetype<usize>(key), byteLengthOf(key), outPointer(), outSize()) != WasmResult.Ok) return null;
  return takeHostBuffer();
}

export function addHeaderMapValue(type: MapType, key: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return proxy_add_header_map_value(type, changetype<usize>(key), byteLengthOf(key), changetype<usize>(value), byteLengthOf(value));
}

export function replaceHeaderMapValue(type: MapType, key: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return proxy_replace_header_map_value(type, changetype<usize>(key), byteLengthOf(key), changetype<usize>(value), byteLengthOf(value));
}

export function removeHeaderMapValue(type: MapType, key: ArrayBuffer): WasmResult {
  return proxy_remove_header_map_value(type, changetype<usize>(key), byteLengthOf(key));
}

/** The map's size in bytes as Envoy reports it, or -1 when the map is not available. */
export function getHeaderMapSize(type: MapType): i64 {
  if (proxy_get_header_map_size(type, outSize()) != WasmResult.Ok) return -1;
  return load<u32>(outSize());
}

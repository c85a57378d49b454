// Header/trailer/metadata map hostcalls (cpp-host exports.cc; Envoy context.cc getMap,
// getConstMap, *HeaderMap*). Envoy only holds a map while it is current: once a callback
// returned Continue (or continue_stream ran) the map is gone and access is BAD_ARGUMENT, except
// reads in the access-log phase (on_log), which answer NOT_FOUND.

import { MAX_MAP_TYPE, MapType, WasmResult } from "../abi/enums.js";
import { decodePairBytes } from "../abi/pairs.js";
import type { HostContext } from "../context.js";
import type { HeaderMap } from "../header-map.js";
import { EMPTY_BYTES } from "../text.js";
import type { Vm } from "../vm.js";
import type { HostFns } from "./types.js";

function mutableMap(ctx: HostContext, type: MapType): HeaderMap | null {
  return type <= MapType.ResponseTrailers ? (ctx.stream?.mutableMap(type) ?? null) : null;
}

function readableMap(ctx: HostContext, type: MapType): HeaderMap | null {
  const root = ctx.root;
  switch (type) {
    case MapType.GrpcReceiveInitialMetadata:
      return root.grpcInitialMetadata;
    case MapType.GrpcReceiveTrailingMetadata:
      return root.grpcTrailingMetadata;
    case MapType.HttpCallResponseHeaders:
      return root.httpCallResponse?.headers ?? null;
    case MapType.HttpCallResponseTrailers:
      return root.httpCallResponse?.trailers ?? null;
    default:
      return ctx.stream?.readableMap(type) ?? null;
  }
}

export const headerImports: HostFns = {
  proxy_get_header_map_value(vm, type: number, keyPtr: number, keyLen: number, ptrPtr: number, sizePtr: number) {
    if (type >>> 0 > MAX_MAP_TYPE) return WasmResult.BadArgument;
    const key = vm.memory.view(keyPtr, keyLen);
    if (key === null) return WasmResult.InvalidMemoryAccess;
    const map = readableMap(vm.effective, type >>> 0);
    if (map === null) return vm.effective.stream?.accessLogPhase ? WasmResult.NotFound : WasmResult.BadArgument;
    const value = map.getFirstBytes(key);
    if (value === undefined) return WasmResult.NotFound;
    return vm.copyOut(value, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_get_header_map_pairs(vm, type: number, ptrPtr: number, sizePtr: number) {
    if (type >>> 0 > MAX_MAP_TYPE) return WasmResult.BadArgument;
    const map = readableMap(vm.effective, type >>> 0);
    // A missing map reads as empty (headerMapToPairs(nullptr)); empty is ptr=0,size=0.
    const bytes = map === null ? EMPTY_BYTES : map.encodePairs();
    return vm.copyOut(bytes, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_set_header_map_pairs(vm, type: number, ptr: number, len: number) {
    if (type >>> 0 > MAX_MAP_TYPE) return WasmResult.BadArgument;
    const data = vm.memory.view(ptr, len); // decoding copies what it keeps
    if (data === null) return WasmResult.InvalidMemoryAccess;
    const map = mutableMap(vm.effective, type >>> 0);
    if (map === null) return WasmResult.BadArgument;
    map.setAll(decodePairBytes(data)); // a malformed buffer decodes to nothing and clears the map
    return WasmResult.Ok;
  },
  proxy_get_header_map_size(vm, type: number, retPtr: number) {
    if (type >>> 0 > MAX_MAP_TYPE) return WasmResult.BadArgument;
    const map = mutableMap(vm.effective, type >>> 0);
    if (map === null) return WasmResult.BadArgument;
    return vm.memory.writeU32(retPtr, map.byteSize()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_add_header_map_value(vm, type: number, keyPtr: number, keyLen: number, valPtr: number, valLen: number) {
    return mutate(vm, type, keyPtr, keyLen, valPtr, valLen, add);
  },
  proxy_replace_header_map_value(vm, type: number, keyPtr: number, keyLen: number, valPtr: number, valLen: number) {
    return mutate(vm, type, keyPtr, keyLen, valPtr, valLen, replace);
  },
  proxy_remove_header_map_value(vm, type: number, keyPtr: number, keyLen: number) {
    return mutate(vm, type, keyPtr, keyLen, 0, 0, remove);
  },
};

// The key and value are fresh copies of module memory: the map may keep them.
const add = (map: HeaderMap, key: Uint8Array, value: Uint8Array) => map.adopt(key, value);
const replace = (map: HeaderMap, key: Uint8Array, value: Uint8Array) => {
  map.remove(key);
  map.adopt(key, value);
};
const remove = (map: HeaderMap, key: Uint8Array) => map.remove(key);

function mutate(
  vm: Vm,
  type: number,
  keyPtr: number,
  keyLen: number,
  valPtr: number,
  valLen: number,
  apply: (map: HeaderMap, key: Uint8Array, value: Uint8Array) => void,
): number {
  if (type >>> 0 > MAX_MAP_TYPE) return WasmResult.BadArgument;
  const key = vm.memory.read(keyPtr, keyLen);
  const value = vm.memory.read(valPtr, valLen);
  if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
  const map = mutableMap(vm.effective, type >>> 0);
  if (map === null) return WasmResult.BadArgument;
  apply(map, key, value);
  return WasmResult.Ok;
}

// proxy_get_property / proxy_set_property (cpp-host exports.cc; Envoy context.cc getProperty,
// setProperty). The path is segments joined by NUL; an empty path is a serialization failure.

import { WasmResult } from "../abi/enums.js";
import { lookupProperty } from "../properties.js";
import { utf8, type HostFns } from "./types.js";

export const propertyImports: HostFns = {
  proxy_get_property(vm, pathPtr: number, pathLen: number, ptrPtr: number, sizePtr: number) {
    const path = vm.memory.view(pathPtr, pathLen);
    if (path === null) return WasmResult.InvalidMemoryAccess;
    if (path.length === 0) return WasmResult.SerializationFailure;
    const value = lookupProperty(vm, vm.effective, utf8(path));
    if (value === undefined) return WasmResult.NotFound;
    return vm.copyOut(value, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_set_property(vm, pathPtr: number, pathLen: number, valPtr: number, valLen: number) {
    const path = vm.memory.view(pathPtr, pathLen);
    const value = vm.memory.view(valPtr, valLen); // setProperty copies it
    if (path === null || value === null) return WasmResult.InvalidMemoryAccess;
    // Envoy stores filter state of the request's stream info; a root has none.
    const stream = vm.effective.attributes;
    if (!stream) return WasmResult.NotFound;
    // The prototype comes from the root's declared properties (rootContext()->state_prototypes_).
    const rawPath = utf8(path);
    return stream.setProperty(rawPath, value, vm.effective.root.statePrototypes?.get(rawPath)?.readonly ?? false);
  },
};

// proxy_get_shared_data / proxy_set_shared_data (cpp-host exports.cc, src/shared_data.cc).

import { WasmResult } from "../abi/enums.js";
import { getSharedData, setSharedData } from "../shared-state.js";
import { utf8, type HostFns } from "./types.js";

export const sharedDataImports: HostFns = {
  proxy_get_shared_data(vm, keyPtr: number, keyLen: number, ptrPtr: number, sizePtr: number, casPtr: number) {
    const key = vm.memory.read(keyPtr, keyLen);
    if (key === null) return WasmResult.InvalidMemoryAccess;
    const entry = getSharedData(vm.config.vmId, utf8(key));
    if (!entry) return WasmResult.NotFound;
    if (!vm.copyOut(entry.value, ptrPtr, sizePtr)) return WasmResult.InvalidMemoryAccess;
    return vm.memory.writeU32(casPtr, entry.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_set_shared_data(vm, keyPtr: number, keyLen: number, valPtr: number, valLen: number, cas: number) {
    const key = vm.memory.read(keyPtr, keyLen);
    const value = vm.memory.read(valPtr, valLen);
    if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
    return setSharedData(vm.config.vmId, utf8(key), value, cas >>> 0);
  },
};

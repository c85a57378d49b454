// proxy_log / proxy_get_log_level (cpp-host exports.cc log, get_log_level; Envoy context.cc log).

import { MAX_LOG_LEVEL, WasmResult } from "../abi/enums.js";
import { utf8, type HostFns } from "./types.js";

export const logImports: HostFns = {
  proxy_log(vm, level: number, ptr: number, len: number) {
    if (level >>> 0 > MAX_LOG_LEVEL) return WasmResult.BadArgument;
    const message = vm.memory.view(ptr, len);
    if (message === null) return WasmResult.InvalidMemoryAccess;
    if (vm.keepsLogLevel(level >>> 0)) vm.log(level >>> 0, utf8(message)); // decoded only when kept
    return WasmResult.Ok;
  },
  proxy_get_log_level(vm, retPtr: number) {
    return vm.memory.writeU32(retPtr, vm.config.logLevel) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

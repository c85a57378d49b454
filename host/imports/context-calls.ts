// proxy_set_effective_context / proxy_done / proxy_get_status (cpp-host exports.cc, wasm.cc done).

import { WasmResult } from "../abi/enums.js";
import { encodeText } from "../text.js";
import type { HostFns } from "./types.js";

export const contextImports: HostFns = {
  proxy_set_effective_context(vm, id: number) {
    const ctx = vm.contexts.get(id >>> 0);
    if (!ctx) return WasmResult.BadArgument;
    vm.effective = ctx; // reset by the next callback (SaveRestoreContext)
    return WasmResult.Ok;
  },
  proxy_done(vm) {
    return vm.rootDone(vm.effective.root);
  },
  proxy_get_status(vm, codePtr: number, ptrPtr: number, sizePtr: number) {
    const status = vm.effective.root.status;
    if (!vm.memory.writeU32(codePtr, status.code)) return WasmResult.InvalidMemoryAccess;
    const msg = encodeText(status.message);
    return vm.copyOut(msg, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

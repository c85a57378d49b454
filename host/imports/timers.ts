// proxy_set_tick_period_milliseconds (on the ROOT context, even from a stream) and
// proxy_get_current_time_nanoseconds (cpp-host exports.cc, context.cc setTimerPeriod).

import { WasmResult } from "../abi/enums.js";
import type { HostFns } from "./types.js";

export const timerImports: HostFns = {
  proxy_set_tick_period_milliseconds(vm, periodMs: number) {
    vm.setTickPeriod(vm.effective.root.id, periodMs >>> 0);
    return WasmResult.Ok;
  },
  proxy_get_current_time_nanoseconds(vm, retPtr: number) {
    return vm.memory.writeU64(retPtr, vm.clock.realtimeNs()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

// Shared queues (cpp-host exports.cc, context.cc, src/shared_queue.cc). on_queue_ready is
// posted to the registering root's VM and runs after the current operation, never inline.

import { WasmResult } from "../abi/enums.js";
import { dequeue, enqueue, registerQueue, resolveQueue } from "../shared-state.js";
import { utf8, type HostFns } from "./types.js";

export const queueImports: HostFns = {
  proxy_register_shared_queue(vm, namePtr: number, nameLen: number, tokenPtr: number) {
    const name = vm.memory.read(namePtr, nameLen);
    if (name === null) return WasmResult.InvalidMemoryAccess;
    const root = vm.effective.root; // a stream registers on behalf of its root
    const token = registerQueue(vm.config.vmId, utf8(name), {
      notify: (t) => vm.post(() => void (vm.has("proxy_on_queue_ready") && vm.call("proxy_on_queue_ready", root, root.id, t))),
    });
    return vm.memory.writeU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_resolve_shared_queue(vm, vmIdPtr: number, vmIdLen: number, namePtr: number, nameLen: number, tokenPtr: number) {
    const vmId = vm.memory.read(vmIdPtr, vmIdLen);
    const name = vm.memory.read(namePtr, nameLen);
    if (vmId === null || name === null) return WasmResult.InvalidMemoryAccess;
    const token = resolveQueue(vmId.length === 0 ? vm.config.vmId : utf8(vmId), utf8(name));
    if (token === undefined) return WasmResult.NotFound;
    return vm.memory.writeU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_enqueue_shared_queue(vm, token: number, valPtr: number, valLen: number) {
    const value = vm.memory.read(valPtr, valLen);
    if (value === null) return WasmResult.InvalidMemoryAccess;
    return enqueue(token >>> 0, value);
  },
  proxy_dequeue_shared_queue(vm, token: number, ptrPtr: number, sizePtr: number) {
    const item = dequeue(token >>> 0);
    if (typeof item === "number") return item;
    return vm.copyOut(item, ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

// Assembles the import object: every offered import (signatures.ts) bound to its
// implementation, each call first checked against the VM's current restriction.

import { WASI_MODULES, offeredImports } from "../abi/signatures.js";
import type { Vm } from "../vm.js";
import type { ParsedModule } from "../wasm-binary.js";
import { bufferImports } from "./buffers.js";
import { contextImports } from "./context-calls.js";
import { extraImports } from "./extras.js";
import { foreignImports } from "./foreign.js";
import { grpcImports } from "./grpc.js";
import { headerImports } from "./headers.js";
import { httpCallImports } from "./http-call.js";
import { logImports } from "./log.js";
import { metricImports } from "./metrics.js";
import { propertyImports } from "./properties.js";
import { queueImports } from "./queues.js";
import { sharedDataImports } from "./shared-data.js";
import { streamImports } from "./stream.js";
import { timerImports } from "./timers.js";
import type { HostFn, HostFns } from "./types.js";
import { wasiImports } from "./wasi.js";

const ENV: HostFns = {
  ...logImports,
  ...bufferImports,
  ...headerImports,
  ...streamImports,
  ...propertyImports,
  ...httpCallImports,
  ...grpcImports,
  ...sharedDataImports,
  ...queueImports,
  ...metricImports,
  ...timerImports,
  ...foreignImports,
  ...contextImports,
  ...extraImports,
};

export function implementationFor(module: string, name: string) {
  if (module === "env") return ENV[name];
  return (WASI_MODULES as readonly string[]).includes(module) ? wasiImports[name] : undefined;
}

/**
 * The import the module calls: checks the restriction, then runs `impl` on the VM. Wasm passes
 * exactly the signature's arguments, so the hot arities (up to 5, and send_local_response's 8)
 * get a wrapper without rest/spread.
 */
function bind(vm: Vm, full: string, impl: HostFn, arity: number): (...args: unknown[]) => unknown {
  switch (arity) {
    case 0:
      return () => {
        vm.checkAllowed(full);
        return impl(vm);
      };
    case 1:
      return (a) => {
        vm.checkAllowed(full);
        return impl(vm, a);
      };
    case 2:
      return (a, b) => {
        vm.checkAllowed(full);
        return impl(vm, a, b);
      };
    case 3:
      return (a, b, c) => {
        vm.checkAllowed(full);
        return impl(vm, a, b, c);
      };
    case 4:
      return (a, b, c, d) => {
        vm.checkAllowed(full);
        return impl(vm, a, b, c, d);
      };
    case 5:
      return (a, b, c, d, e) => {
        vm.checkAllowed(full);
        return impl(vm, a, b, c, d, e);
      };
    case 8:
      return (a, b, c, d, e, f, g, h) => {
        vm.checkAllowed(full);
        return impl(vm, a, b, c, d, e, f, g, h);
      };
    default:
      return (...args) => {
        vm.checkAllowed(full);
        return impl(vm, ...args);
      };
  }
}

export function buildImports(vm: Vm, parsed: ParsedModule, onMemory: (m: WebAssembly.Memory) => void): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  const offered = offeredImports(vm.config.abi);
  for (const [full, signature] of offered) {
    const dot = full.indexOf(".");
    const [module, name] = [full.slice(0, dot), full.slice(dot + 1)];
    const impl = implementationFor(module, name);
    if (!impl) throw new Error(`host bug: no implementation for ${full}`);
    (imports[module] ??= {})[name] = bind(vm, full, impl, signature.params.length);
  }
  // cpp-host creates imported memories and tables itself (v8.cc link()).
  for (const imp of parsed.imports) {
    if (imp.desc.kind === "memory") {
      const { initial, maximum, shared } = imp.desc.limits;
      const memory = new WebAssembly.Memory({ initial, maximum, shared } as WebAssembly.MemoryDescriptor);
      onMemory(memory);
      (imports[imp.module] ??= {})[imp.name] = memory;
    } else if (imp.desc.kind === "table") {
      const { initial, maximum } = imp.desc.limits;
      (imports[imp.module] ??= {})[imp.name] = new WebAssembly.Table({ element: "anyfunc", initial, maximum });
    }
  }
  return imports;
}

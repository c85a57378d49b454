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
import type { HostFns } from "./types.js";
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

export function buildImports(vm: Vm, parsed: ParsedModule, onMemory: (m: WebAssembly.Memory) => void): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  const offered = offeredImports(vm.config.abi);
  for (const full of offered.keys()) {
    const dot = full.indexOf(".");
    const [module, name] = [full.slice(0, dot), full.slice(dot + 1)];
    const impl = implementationFor(module, name);
    if (!impl) throw new Error(`host bug: no implementation for ${full}`);
    (imports[module] ??= {})[name] = (...args: unknown[]) => {
      vm.checkAllowed(full);
      return impl(vm, ...args);
    };
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

// Builds small test filters from WAT with wabt. `filter()` wraps the given functions in a
// module that has what Envoy needs (memory, malloc, ABI marker) plus a few helpers:
//   $report(v)       logs v as two decimal digits at info ("06" = InvalidMemoryAccess)
//   $log_mem(p, n)   logs n bytes at p as the message
//   $log_out()       logs the bytes a hostcall returned through the out-pointers at 300/304
// Imports are declared from the host's own signature table, named $<import name>.

import wabtInit from "wabt";
import { envImports, formatTypes } from "../../../host/abi/signatures.js";

const wabt = await wabtInit();

export function wat(source: string): Uint8Array {
  const module = wabt.parseWat("test.wat", source, { mutable_globals: true, sign_extension: true });
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** `(import "env" "proxy_x" (func $proxy_x ...))` for each name, with the exact host types. */
export function envImport(...names: string[]): string {
  const table = envImports("0.2.1");
  return names
    .map((name) => {
      const s = table[name];
      if (!s) throw new Error(`unknown import ${name}`);
      const params = s.params.length ? `(param ${formatTypes(s.params)})` : "";
      const results = s.results.length ? `(result ${formatTypes(s.results)})` : "";
      return `(import "env" "${name}" (func $${name} ${params} ${results}))`;
    })
    .join("\n");
}

export interface FilterParts {
  imports?: string[];
  body?: string;
  abi?: "0_2_1" | "0_2_0" | "0_1_0" | null;
  /** Replaces the bump allocator, e.g. one that returns 0. */
  malloc?: string | null;
  /** Raw extra module fields such as an import that the test wants to see refused. */
  extraImports?: string;
}

export function filterSource(parts: FilterParts = {}): string {
  const imports = [...new Set(["proxy_log", ...(parts.imports ?? [])])];
  const abi = parts.abi === undefined ? "0_2_1" : parts.abi;
  const malloc =
    parts.malloc === null
      ? ""
      : (parts.malloc ??
        `(func (export "malloc") (param $n i32) (result i32) (local $p i32)
           (local.set $p (global.get $heap))
           (global.set $heap (i32.add (global.get $heap) (local.get $n)))
           (local.get $p))`);
  return `(module
  ${parts.extraImports ?? ""}
  ${envImport(...imports)}
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 32768))
  ${malloc}
  ${abi ? `(func (export "proxy_abi_version_${abi}"))` : ""}
  (func $report (param $v i32)
    (i32.store8 (i32.const 200) (i32.add (i32.const 48) (i32.div_u (local.get $v) (i32.const 10))))
    (i32.store8 (i32.const 201) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
    (drop (call $proxy_log (i32.const 2) (i32.const 200) (i32.const 2))))
  (func $log_mem (param $p i32) (param $n i32)
    (drop (call $proxy_log (i32.const 2) (local.get $p) (local.get $n))))
  (func $log_out
    (call $log_mem (i32.load (i32.const 300)) (i32.load (i32.const 304))))
  ${parts.body ?? ""}
)`;
}

export function filter(parts: FilterParts = {}): Uint8Array {
  return wat(filterSource(parts));
}

/** A data segment with a string at a fixed address. */
export function data(address: number, text: string): string {
  const escaped = [...new TextEncoder().encode(text)].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
  return `(data (i32.const ${address}) "${escaped}")`;
}

/** The start of the host's one-VM warning (pinned in workers.test.ts), which a plugin without `concurrency` logs at start. */
export const ONE_VM_WARNING = "host: no concurrency given";

/**
 * The messages of a log list, for compact assertions, without the host's one-VM warning (a test
 * about something else would otherwise repeat it).
 */
export function messages(logs: { message: string }[]): string[] {
  return withoutOneVmWarning(logs).map((l) => l.message);
}

/** A log list without the host's one-VM warning. */
export function withoutOneVmWarning<L extends { message: string }>(logs: L[]): L[] {
  return logs.filter((l) => !l.message.startsWith(ONE_VM_WARNING));
}

/** A data segment with raw bytes at a fixed address. */
export function bytesData(address: number, bytes: Uint8Array): string {
  return `(data (i32.const ${address}) "${[...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("")}")`;
}

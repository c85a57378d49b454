// Load-time validation, in the order proxy-wasm-cpp-host applies it (src/wasm.cc load,
// initialize, getFunctions; src/v8/v8.cc link, getModuleFunctionImpl). The first problem is the
// one Envoy would report; the rest are listed so a filter author can fix them all at once.

import {
  ABI_MARKERS,
  CALLBACK_EXPORTS,
  STARTUP_EXPORTS,
  formatTypes,
  offeredImports,
  sameSig,
  type AbiVersion,
  type FuncSig,
} from "./abi/signatures.js";
import { parseModule, type ExportEntry, type ImportEntry, type ParsedModule } from "./wasm-binary.js";

export interface ModuleCheck {
  /** true when the host (and Envoy) would load, link and start this module. */
  ok: boolean;
  abiVersion: AbiVersion | null;
  problems: string[];
  imports: { module: string; name: string; kind: string; params?: string[]; results?: string[] }[];
  exports: { name: string; kind: string; params?: string[]; results?: string[] }[];
  hasStartSection: boolean;
  /** Loadable, but worth knowing (a start section). */
  warnings: string[];
}

export function checkModule(wasm: Uint8Array): ModuleCheck {
  let parsed: ParsedModule;
  try {
    parsed = parseModule(wasm);
  } catch (e) {
    return {
      ok: false,
      abiVersion: null,
      problems: [`Failed to parse corrupted Wasm module: ${(e as Error).message}`],
      imports: [],
      exports: [],
      hasStartSection: false,
      warnings: [],
    };
  }
  const problems: string[] = [];
  const abiVersion = findAbiVersion(parsed.exports);
  if (abiVersion === null) {
    problems.push("Missing or unknown Proxy-Wasm ABI version (export proxy_abi_version_0_2_1 or proxy_abi_version_0_2_0)");
  } else if (abiVersion === "0.1.0") {
    // cpp-host still loads 0.1.0; this host refuses it on purpose (v0.2.x only).
    problems.push("unsupported ABI version 0.1.0 (proxy_abi_version_0_1_0): this host implements Proxy-Wasm ABI 0.2.0 and 0.2.1 only");
  }
  try {
    new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  } catch (e) {
    problems.push(`Failed to load Wasm bytecode: ${(e as Error).message}`);
  }
  if (abiVersion !== null && abiVersion !== "0.1.0") problems.push(...importProblems(parsed.imports, abiVersion));
  const warnings: string[] = [];
  if (parsed.hasStartSection) {
    // cpp-host loads it and runs the start function inside instantiation (link()), before any
    // context exists: a hostcall there crashes Envoy. asc: --exportStart _initialize avoids it.
    warnings.push(
      "Wasm module has a start section: Envoy runs it during instantiation, before any context exists, where any hostcall (even proxy_log) crashes the proxy; build it as a reactor (e.g. asc --exportStart _initialize)",
    );
  }
  problems.push(...exportProblems(parsed));
  return {
    ok: problems.length === 0,
    abiVersion,
    problems,
    imports: parsed.imports.map((i) => ({
      module: i.module,
      name: i.name,
      kind: i.desc.kind,
      ...(i.desc.kind === "function" ? { params: i.desc.sig.params, results: i.desc.sig.results } : {}),
    })),
    exports: parsed.exports.map((e) => ({
      name: e.name,
      kind: e.kind,
      ...(e.sig ? { params: e.sig.params, results: e.sig.results } : {}),
    })),
    hasStartSection: parsed.hasStartSection,
    warnings,
  };
}

/** bytecode_util.cc getAbiVersion: the first marker found in the export section wins. */
function findAbiVersion(exports: ExportEntry[]): AbiVersion | null {
  for (const e of exports) {
    const v = ABI_MARKERS[e.name];
    if (v && e.kind === "function") return v;
  }
  return null;
}

function importProblems(imports: ImportEntry[], abi: AbiVersion): string[] {
  const offered = offeredImports(abi);
  const problems: string[] = [];
  for (const imp of imports) {
    const full = `${imp.module}.${imp.name}`;
    if (imp.desc.kind === "global" || imp.desc.kind === "tag") {
      // v8.cc link(): imported globals are refused with the "missing import" message.
      problems.push(`Failed to load Wasm module due to a missing import: ${full}`);
      continue;
    }
    if (imp.desc.kind !== "function") continue; // memory and table imports are created by the host
    const want = offered.get(full);
    if (!want) {
      problems.push(`Failed to load Wasm module due to a missing import: ${full}`);
    } else if (!sameSig(imp.desc.sig, want)) {
      problems.push(
        `Failed to load Wasm module due to an import type mismatch: ${full}, want: ${describe(imp.desc.sig)}, but host exports: ${describe(want)}`,
      );
    }
  }
  return problems;
}

function exportProblems(parsed: ParsedModule): string[] {
  const problems: string[] = [];
  const funcs = new Map(parsed.exports.filter((e) => e.kind === "function").map((e) => [e.name, e.sig!]));
  const hasMemory =
    parsed.exports.some((e) => e.kind === "memory") || parsed.imports.some((i) => i.desc.kind === "memory");
  const checkSig = (name: string, want: FuncSig) => {
    const got = funcs.get(name);
    if (got && !sameSig(got, want)) {
      problems.push(`Bad function signature for: ${name}, want: ${describe(want)}, but the module exports: ${describe(got)}`);
    }
  };
  // getFunctions(): main/__main_void only matter for reactors, _start only for commands.
  checkSig("_initialize", STARTUP_EXPORTS._initialize);
  if (funcs.has("_initialize")) {
    checkSig("main", STARTUP_EXPORTS.main);
    checkSig("__main_void", STARTUP_EXPORTS.__main_void);
  } else {
    checkSig("_start", STARTUP_EXPORTS._start);
  }
  if (funcs.has("malloc")) checkSig("malloc", STARTUP_EXPORTS.malloc);
  else if (funcs.has("proxy_on_memory_allocate")) checkSig("proxy_on_memory_allocate", STARTUP_EXPORTS.proxy_on_memory_allocate);
  else problems.push("Wasm module is missing malloc function (export malloc or proxy_on_memory_allocate)");
  for (const [name, want] of Object.entries(CALLBACK_EXPORTS)) checkSig(name, want);
  if (!hasMemory) problems.push("Wasm module has no memory: export one (cpp-host needs it for every hostcall)");
  return problems;
}

function describe(s: FuncSig): string {
  return `${formatTypes(s.params)} -> ${formatTypes(s.results)}`;
}

// proxy_call_foreign_function (cpp-host exports.cc) with the functions Envoy registers
// (source/extensions/common/wasm/foreign.cc). Unknown names are NOT_FOUND.

import { deflateSync, inflateSync } from "node:zlib";
import { WasmResult } from "../abi/enums.js";
import { utf8, type HostFns } from "./types.js";
import type { ForeignFunction, Vm } from "../vm.js";
import { declarePropertyArguments, setEnvoyFilterStateArguments } from "./foreign-args.js";

/** A test's function: bytes or a string are OK with that output; a number is a status. */
function fromRegistered(fn: ForeignFunction): Foreign {
  return (args) => {
    const out = fn(args);
    if (typeof out === "number") return { result: out };
    if (out === undefined) return { result: WasmResult.Ok };
    return { result: WasmResult.Ok, output: typeof out === "string" ? new TextEncoder().encode(out) : out };
  };
}

type Foreign = (args: Uint8Array, vm: Vm) => { result: WasmResult; output?: Uint8Array };

/**
 * Filter state objects core Envoy can build from bytes (StreamInfo::FilterState::ObjectFactory);
 * set_envoy_filter_state answers NotFound for any other key, as an Envoy without that factory does.
 */
const FILTER_STATE_OBJECTS = new Set([
  "envoy.network.upstream_server_name",
  "envoy.network.application_protocols",
  "envoy.network.upstream_subject_alt_names",
  "envoy.network.transport_socket.original_dst_address",
  "envoy.tcp_proxy.cluster",
  "envoy.upstream.dynamic_host",
  "envoy.upstream.dynamic_port",
]);

const FOREIGN: Record<string, Foreign> = {
  // zlib compress()/uncompress(): zlib-wrapped deflate.
  compress: (args) => ({ result: WasmResult.Ok, output: deflateSync(args) }),
  uncompress: (args) => {
    try {
      return { result: WasmResult.Ok, output: inflateSync(args) };
    } catch {
      return { result: WasmResult.SerializationFailure };
    }
  },
  clear_route_cache: () => ({ result: WasmResult.Ok }),
  // DeclarePropertyFactory then Context::declareProperty: on the current context; a name declared
  // there before is BadArgument. set_property reads the root's declarations.
  declare_property: (args, vm) => {
    const declared = declarePropertyArguments(args);
    if (declared === null) return { result: WasmResult.BadArgument };
    const prototypes = (vm.current.statePrototypes ??= new Map());
    if (prototypes.has(declared.name)) return { result: WasmResult.BadArgument };
    prototypes.set(declared.name, { readonly: declared.readonly });
    return { result: WasmResult.Ok };
  },
  // Context::setEnvoyFilterState: the object factory first (NotFound), then the stream's info
  // (NotFound on a root context, which has none).
  set_envoy_filter_state: (args, vm) => {
    const state = setEnvoyFilterStateArguments(args);
    if (state === null) return { result: WasmResult.BadArgument };
    if (!FILTER_STATE_OBJECTS.has(state.path)) return { result: WasmResult.NotFound };
    return { result: vm.effective.attributes ? WasmResult.Ok : WasmResult.NotFound };
  },
};
/** Registered by Envoy but not emulated: signatures (sign, verify_signature) and CEL expressions. */
const NOT_YET = ["sign", "verify_signature", "expr_create", "expr_evaluate", "expr_delete"];

export const foreignImports: HostFns = {
  proxy_call_foreign_function(vm, namePtr: number, nameLen: number, argsPtr: number, argsLen: number, retPtrPtr: number, retSizePtr: number) {
    const name = vm.memory.read(namePtr, nameLen);
    if (name === null) return WasmResult.InvalidMemoryAccess;
    const args = vm.memory.read(argsPtr, argsLen);
    if (args === null) return WasmResult.InvalidMemoryAccess;
    const registered = vm.foreignFunctions.get(utf8(name));
    const fn = registered ? fromRegistered(registered) : FOREIGN[utf8(name)];
    if (!fn) return NOT_YET.includes(utf8(name)) ? WasmResult.Unimplemented : WasmResult.NotFound;
    const { result, output } = fn(args.slice(), vm);
    let address = 0;
    if (output && output.length > 0 && retPtrPtr >>> 0 !== 0) {
      const p = vm.allocate(output.length);
      if (p !== null && vm.memory.write(p, output)) address = p;
    }
    if (retPtrPtr >>> 0 !== 0 && !vm.memory.writeU32(retPtrPtr, address)) return WasmResult.InvalidMemoryAccess;
    if (retSizePtr >>> 0 !== 0 && !vm.memory.writeU32(retSizePtr, output?.length ?? 0)) return WasmResult.InvalidMemoryAccess;
    return result;
  },
};

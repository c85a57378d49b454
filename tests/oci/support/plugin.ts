// A small, valid proxy-wasm module built here with wabt, so these tests depend on no other build.
import wabtInit from "wabt";

const wabt = await wabtInit();

/** A module Envoy would load (ABI marker, memory, malloc); `seed` varies its bytes so tests can make distinct plugins. */
export function pluginWasm(seed = "plugin"): Buffer {
  const source = `(module
    (memory (export "memory") 1)
    (data (i32.const 16) "${seed}")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_on_context_create") (param i32 i32)))`;
  const module = wabt.parseWat("plugin.wat", source);
  try {
    return Buffer.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

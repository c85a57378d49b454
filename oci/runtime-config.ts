// runtime-config.json, the metadata every Wasm image format carries next to the module
// (solo-io/wasm spec/spec.md, "Envoy WASM Filter Specification").
import { checkModule } from "../host/module.js";

export interface RuntimeConfig {
  type: "envoy_proxy";
  abiVersions: string[];
  config: { root_ids: string[] };
}

/** The ABI versions are the module's own `proxy_abi_version_*` exports, which is what Envoy checks. */
export function runtimeConfigFor(wasm: Buffer, rootIds: string[]): RuntimeConfig {
  const abiVersions = checkModule(wasm)
    .exports.map((e) => e.name)
    .filter((name) => name.startsWith("proxy_abi_version_"))
    .sort();
  return { type: "envoy_proxy", abiVersions, config: { root_ids: [...rootIds] } };
}

// `proxy-wasm-as generate wasmplugin|trafficextension|envoyextensionpolicy|envoyfilter|envoy`: the YAML
// that deploys a filter to Istio (WasmPlugin, or TrafficExtension from Istio 1.30), to Envoy Gateway,
// to Istio without WasmPlugin, or to a bare Envoy (optionally run by docker compose).
import type { Command } from "commander";
import { trafficExtension } from "../../deploy/trafficextension.js";
import { wasmPlugin } from "../../deploy/wasmplugin.js";
import { registerEnvoy, registerEnvoyFilter } from "./generate-envoy.js";
import { registerEnvoyExtensionPolicy, registerIstio } from "./generate-kubernetes.js";

export function register(program: Command): void {
  const generate = program.command("generate").description("write deployment YAML for Istio, Envoy Gateway or Envoy");
  registerIstio(generate, "WasmPlugin", wasmPlugin);
  registerIstio(generate, "TrafficExtension", trafficExtension);
  registerEnvoyExtensionPolicy(generate);
  registerEnvoyFilter(generate);
  registerEnvoy(generate);
}

// An Istio WasmPlugin (extensions.istio.io/v1alpha1), the way Istio wants a filter named by url.
import { istioWasmParts, type IstioWasmOptions } from "./istio-wasm.js";
import { metadata } from "./kubernetes.js";

export type WasmPluginOptions = IstioWasmOptions;

export function wasmPlugin(o: WasmPluginOptions): Record<string, unknown> {
  const { placement, module } = istioWasmParts(o);
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "WasmPlugin",
    metadata: metadata(o.name, o.namespace),
    spec: { ...module, ...placement },
  };
}

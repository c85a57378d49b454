// An Istio TrafficExtension (extensions.istio.io/v1alpha1, Istio 1.30): the resource Istio now
// translates every WasmPlugin into. Placement (selector or targetRefs, phase, priority, match) sits
// in spec, the module and its options under spec.wasm.
import { istioWasmParts, type IstioWasmOptions } from "./istio-wasm.js";
import { metadata } from "./kubernetes.js";

export type TrafficExtensionOptions = IstioWasmOptions;

export function trafficExtension(o: TrafficExtensionOptions): Record<string, unknown> {
  const { placement, module } = istioWasmParts(o);
  return {
    apiVersion: "extensions.istio.io/v1alpha1",
    kind: "TrafficExtension",
    metadata: metadata(o.name, o.namespace),
    spec: { ...placement, wasm: module },
  };
}

// Envoy's envoy.filters.http.wasm filter (extensions/filters/http/wasm/v3/wasm.proto), shared by the
// EnvoyFilter and the static bootstrap. The configuration goes in as a StringValue, which Envoy
// hands to on_configure unwrapped: the same bytes a WasmPlugin's pluginConfig becomes.

const WASM_FILTER = "envoy.filters.http.wasm";
const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue";

export type WasmCode =
  | { local: { filename: string } }
  | { remote: { http_uri: { uri: string; cluster: string; timeout: string }; sha256: string } };

export interface WasmFilterOptions {
  name: string;
  rootId?: string;
  vmId?: string;
  /** Passed to the plugin as is. */
  configuration?: string;
  code: WasmCode;
  failOpen?: boolean;
}

export function wasmHttpFilter(o: WasmFilterOptions): Record<string, unknown> {
  const config: Record<string, unknown> = { name: o.name };
  if (o.rootId) config.root_id = o.rootId;
  if (o.configuration !== undefined) config.configuration = { "@type": STRING_VALUE, value: o.configuration };
  config.vm_config = { vm_id: o.vmId ?? o.name, runtime: "envoy.wasm.runtime.v8", code: o.code };
  if (o.failOpen) config.fail_open = true;
  return { name: WASM_FILTER, typed_config: { "@type": WASM_TYPE, config } };
}

// Envoy's envoy.filters.http.wasm filter (extensions/filters/http/wasm/v3/wasm.proto, whose config is
// extensions/wasm/v3's PluginConfig), shared by the EnvoyFilter and the static bootstrap. The
// configuration goes in as a StringValue, which Envoy hands to on_configure unwrapped: the same bytes a
// WasmPlugin's pluginConfig becomes.
import type { EnvEntry } from "./istio-wasm.js";

const WASM_FILTER = "envoy.filters.http.wasm";
const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue";

/** PluginConfig.failure_policy (FailurePolicy); unset means FAIL_CLOSED. */
export const FAILURE_POLICIES = ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

export type WasmCode =
  | { local: { filename: string } }
  | { remote: { http_uri: { uri: string; cluster: string; timeout: string }; sha256: string } };

/** config.core.v3.BackoffStrategy, durations in protobuf JSON form ("1s", "0.5s"). */
export interface Backoff {
  base_interval: string;
  max_interval?: string;
}

export interface WasmFilterOptions {
  name: string;
  rootId?: string;
  vmId?: string;
  /** Passed to the plugin as is. */
  configuration?: string;
  code: WasmCode;
  /** The deprecated PluginConfig.fail_open, for the older Envoys of meshes that use EnvoyFilter. */
  failOpen?: boolean;
  failurePolicy?: FailurePolicy;
  /** reload_config.backoff: only read with FAIL_RELOAD. */
  reloadBackoff?: Backoff;
  /** vm_config.environment_variables: INLINE entries become key_values, HOST ones host_env_keys. */
  env?: EnvEntry[];
  /** PluginConfig.allow_on_headers_stop_iteration (Envoy 1.35+); unset, Envoy turns StopIteration into StopAllIterationAndWatermark. */
  allowOnHeadersStopIteration?: boolean;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60 };

/** "500ms", "2s", "1.5s", "1m" into protobuf JSON's seconds form. */
export function parseDuration(text: string, flag: string): { seconds: number; json: string } {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`bad ${flag} "${text}": a duration such as 500ms, 2s or 1m`);
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]];
  return { seconds, json: `${Number(seconds.toFixed(9))}s` };
}

/** BASE or BASE,MAX, with BackoffStrategy's rules: base at least 1ms, max not below base. */
export function parseBackoff(text: string): Backoff {
  const [baseText, maxText, extra] = text.split(",");
  if (extra !== undefined) throw new Error(`bad --reload-backoff "${text}": expected BASE or BASE,MAX`);
  const base = parseDuration(baseText, "--reload-backoff");
  if (base.seconds < 0.001) throw new Error(`bad --reload-backoff "${text}": the base interval is at least 1ms`);
  if (maxText === undefined) return { base_interval: base.json };
  const max = parseDuration(maxText, "--reload-backoff");
  if (max.seconds < base.seconds) throw new Error(`bad --reload-backoff "${text}": the maximum is below the base interval`);
  return { base_interval: base.json, max_interval: max.json };
}

function environmentVariables(env: EnvEntry[]): Record<string, unknown> {
  const hostEnvKeys = env.filter((entry) => entry.valueFrom === "HOST").map((entry) => entry.name);
  const inline = env.filter((entry) => entry.valueFrom === "INLINE");
  const result: Record<string, unknown> = {};
  if (hostEnvKeys.length > 0) result.host_env_keys = hostEnvKeys;
  if (inline.length > 0) result.key_values = Object.fromEntries(inline.map((entry) => [entry.name, entry.value ?? ""]));
  return result;
}

export function wasmHttpFilter(o: WasmFilterOptions): Record<string, unknown> {
  if (o.reloadBackoff && o.failurePolicy !== "FAIL_RELOAD") {
    throw new Error("--reload-backoff applies only with --failure-policy FAIL_RELOAD");
  }
  const config: Record<string, unknown> = { name: o.name };
  if (o.rootId) config.root_id = o.rootId;
  if (o.configuration !== undefined) config.configuration = { "@type": STRING_VALUE, value: o.configuration };
  const vmConfig: Record<string, unknown> = { vm_id: o.vmId ?? o.name, runtime: "envoy.wasm.runtime.v8", code: o.code };
  if (o.env && o.env.length > 0) vmConfig.environment_variables = environmentVariables(o.env);
  config.vm_config = vmConfig;
  if (o.failOpen) config.fail_open = true;
  if (o.failurePolicy) config.failure_policy = o.failurePolicy;
  if (o.reloadBackoff) config.reload_config = { backoff: o.reloadBackoff };
  if (o.allowOnHeadersStopIteration) config.allow_on_headers_stop_iteration = true;
  return { name: WASM_FILTER, typed_config: { "@type": WASM_TYPE, config } };
}

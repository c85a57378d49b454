// What happens to streams once a plugin's VM failed: Envoy's PluginConfig.failure_policy
// (envoy/extensions/wasm/v3/wasm.proto; source/extensions/common/wasm/wasm.cc PluginConfig) and
// Istio's WasmPlugin failStrategy, which Istio passes on to it.
//   FAIL_CLOSED (Istio FAIL_CLOSE, the default): every stream of the failed VM gets a 503.
//   FAIL_OPEN (the legacy fail_open: true): streams pass as if the filter were not there.
//   FAIL_RELOAD: like FAIL_CLOSED, but a new stream on a worker whose VM failed at run time
//     (a trap, not a failed start) first recreates the VM (a fresh clone: startVm, on_vm_start,
//     on_configure; all its state gone) once the backoff has passed since that VM was loaded
//     (maybeReloadHandleIfNeeded). A reload that fails again keeps the failed VM until the next try.

/** Envoy's FailurePolicy, and Istio's spelling of FAIL_CLOSED. */
export type FailurePolicyName = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD" | "FAIL_CLOSE";

export interface FailurePolicy {
  name: "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";
  /** Streams of a failed VM continue (FAIL_OPEN). */
  failOpen: boolean;
  /**
   * FAIL_RELOAD: the VM is recreated once this long (ms) has passed since it was loaded. Envoy
   * draws each wait from [base, 1.5 x base) (JitteredLowerBoundBackOffStrategy); the host waits
   * the longest of them, so a reload it performs is one Envoy would have performed too.
   */
  reloadAfterMs: number;
}

/** ReloadConfig.backoff.base_interval when not set. */
export const DEFAULT_RELOAD_BASE_MS = 1000;

/**
 * The policy from the options; a string naming the problem when they are not a configuration
 * Envoy accepts (both fail_open and failure_policy set; an unknown policy; a bad interval).
 */
export function failurePolicy(options: { failOpen?: boolean; failurePolicy?: string; reloadBackoffMs?: number }): FailurePolicy | string {
  const given = options.failurePolicy;
  if (options.failOpen === true && given !== undefined) return "only one of fail_open or failure_policy can be set";
  let name: FailurePolicy["name"];
  if (options.failOpen === true) name = "FAIL_OPEN";
  else if (given === undefined || given === "FAIL_CLOSED" || given === "FAIL_CLOSE") name = "FAIL_CLOSED";
  else if (given === "FAIL_OPEN" || given === "FAIL_RELOAD") name = given;
  else return `unknown failure policy '${given}' (FAIL_CLOSED, FAIL_OPEN or FAIL_RELOAD; Istio: FAIL_CLOSE)`;
  const base = options.reloadBackoffMs ?? DEFAULT_RELOAD_BASE_MS;
  // JitteredLowerBoundBackOffStrategy asserts min_interval > 1.
  if (!Number.isInteger(base) || base < 2) return `bad reload backoff ${base}: a whole number of milliseconds, at least 2`;
  return { name, failOpen: name === "FAIL_OPEN", reloadAfterMs: base + (base >> 1) - 1 };
}

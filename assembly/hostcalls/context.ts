// Host calls about contexts and time.
import { proxy_done, proxy_get_current_time_nanoseconds, proxy_set_effective_context } from "../abi/imports";
import { outValue } from "../runtime/memory";
import { WasmResult } from "../types";

export function setEffectiveContext(contextId: u32): WasmResult {
  return proxy_set_effective_context(contextId);
}

/** Tells the host that a root context whose onDone returned false has finished. */
export function done(): WasmResult {
  return proxy_done();
}

/** Wall-clock time in nanoseconds since the Unix epoch; 0 when the host cannot say. */
export function getCurrentTimeNanoseconds(): u64 {
  store<u64>(outValue(), 0);
  proxy_get_current_time_nanoseconds(outValue());
  return load<u64>(outValue());
}

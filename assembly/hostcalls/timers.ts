import { proxy_set_tick_period_milliseconds } from "../abi/imports";
import { WasmResult } from "../types";

/** Sets the root context's tick period; 0 stops the ticks. */
export function setTickPeriod(periodMs: u32): WasmResult {
  return proxy_set_tick_period_milliseconds(periodMs);
}

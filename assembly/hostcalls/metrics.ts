// Metrics host calls. Envoy rejects a counter increment <= 0 and any read of a histogram.
import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "../abi/imports";
import { outValue } from "../runtime/memory";
import { MetricType, WasmResult } from "../types";

/** The metric's id, or 0 when the host refused to define it. */
export function defineMetric(type: MetricType, name: ArrayBuffer): u32 {
  if (proxy_define_metric(type, changetype<usize>(name), name.byteLength, outValue()) != WasmResult.Ok) return 0;
  return load<u32>(outValue());
}

export function incrementMetric(metricId: u32, delta: i64): WasmResult {
  return proxy_increment_metric(metricId, delta);
}

export function recordMetric(metricId: u32, value: u64): WasmResult {
  return proxy_record_metric(metricId, value);
}

/** A metric's value, or the status that kept the host from reading it. */
export class MetricValue {
  constructor(readonly result: WasmResult, readonly value: u64) {}
}

export function getMetric(metricId: u32): MetricValue {
  const result = proxy_get_metric(metricId, outValue());
  return new MetricValue(result, result == WasmResult.Ok ? load<u64>(outValue()) : 0);
}

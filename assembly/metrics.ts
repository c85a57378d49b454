// Counters, gauges and histograms, defined once (usually in onConfigure) and updated per request.
// Envoy shows them under their names on /stats; tags go into the name (`requests.method=GET`).
import { defineMetric, getMetric, incrementMetric, MetricValue, recordMetric } from "./hostcalls/metrics";
import { MetricType, WasmResult } from "./types";
import { encodeUtf8 } from "./utf8";

export { MetricValue };

abstract class Metric {
  /** 0 when the host refused the definition; every update then answers NotFound. */
  readonly id: u32;

  constructor(type: MetricType, readonly name: string) {
    this.id = defineMetric(type, encodeUtf8(name));
  }

  get defined(): bool { return this.id != 0; }
}

export class Counter extends Metric {
  constructor(name: string) { super(MetricType.Counter, name); }

  /** Adds `delta`, which must be positive: Envoy rejects 0 and negative increments. */
  increment(delta: u64 = 1): WasmResult { return incrementMetric(this.id, <i64>delta); }
  get(): MetricValue { return getMetric(this.id); }
}

export class Gauge extends Metric {
  constructor(name: string) { super(MetricType.Gauge, name); }

  set(value: u64): WasmResult { return recordMetric(this.id, value); }
  /** Adds `delta`, which may be negative. */
  add(delta: i64): WasmResult { return incrementMetric(this.id, delta); }
  get(): MetricValue { return getMetric(this.id); }
}

export class Histogram extends Metric {
  constructor(name: string) { super(MetricType.Histogram, name); }

  /** Records one observation. Envoy cannot read a histogram back. */
  record(value: u64): WasmResult { return recordMetric(this.id, value); }
}

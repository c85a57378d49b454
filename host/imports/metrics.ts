// Metrics (cpp-host exports.cc; Envoy context.cc defineMetric/incrementMetric/recordMetric/
// getMetric). Ids carry the type in the low 2 bits; defining a name twice gives a new id for
// the same underlying stat, as Envoy's scope does.

import { MAX_METRIC_TYPE, MetricType, WasmResult } from "../abi/enums.js";
import type { Vm } from "../vm.js";
import { utf8, type HostFns } from "./types.js";

export interface MetricCell {
  name: string;
  type: MetricType;
  value: bigint;
  /** Histograms keep every recorded value. */
  samples: bigint[];
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const kinds = { [MetricType.Counter]: "counter", [MetricType.Gauge]: "gauge", [MetricType.Histogram]: "histogram" } as const;

export class MetricRegistry {
  readonly byName = new Map<string, MetricCell>();
  readonly byId = new Map<number, MetricCell>();

  define(vm: Vm, type: MetricType, name: string): number {
    const key = `${type}:${name}`;
    let cell = this.byName.get(key);
    if (!cell) this.byName.set(key, (cell = { name, type, value: 0n, samples: [] }));
    const id = vm.counters.take(kinds[type]);
    this.byId.set(id, cell);
    return id;
  }
}

const registries = new WeakMap<Vm, MetricRegistry>();
export function metricsOf(vm: Vm): MetricRegistry {
  let r = registries.get(vm);
  if (!r) registries.set(vm, (r = new MetricRegistry()));
  return r;
}

/** The metric type encoded in an id's low 2 bits (Wasm::kMetricTypeMask). */
const typeOfId = (id: number) => id & 3;

export const metricImports: HostFns = {
  proxy_define_metric(vm, type: number, namePtr: number, nameLen: number, idPtr: number) {
    if (type >>> 0 > MAX_METRIC_TYPE) return WasmResult.BadArgument;
    const name = vm.memory.read(namePtr, nameLen);
    if (name === null) return WasmResult.InvalidMemoryAccess;
    const id = metricsOf(vm).define(vm, type >>> 0, utf8(name));
    return vm.memory.writeU32(idPtr, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
  proxy_increment_metric(vm, id: number, delta: bigint) {
    const type = typeOfId(id >>> 0);
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
    const cell = metricsOf(vm).byId.get(id >>> 0);
    if (!cell) return WasmResult.NotFound;
    // Envoy: counters only go up; a delta <= 0 is BAD_ARGUMENT. Gauges add or subtract.
    if (type === MetricType.Counter && delta <= 0n) return WasmResult.BadArgument;
    cell.value = U64(cell.value + delta);
    return WasmResult.Ok;
  },
  proxy_record_metric(vm, id: number, value: bigint) {
    const cell = metricsOf(vm).byId.get(id >>> 0);
    if (!cell) return WasmResult.NotFound;
    const v = U64(value);
    if (cell.type === MetricType.Counter) cell.value = U64(cell.value + v);
    else if (cell.type === MetricType.Gauge) cell.value = v;
    else cell.samples.push(v);
    return WasmResult.Ok;
  },
  proxy_get_metric(vm, id: number, retPtr: number) {
    const type = typeOfId(id >>> 0);
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
    const cell = metricsOf(vm).byId.get(id >>> 0);
    if (!cell) return WasmResult.NotFound;
    return vm.memory.writeU64(retPtr, cell.value) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

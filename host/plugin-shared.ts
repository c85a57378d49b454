// What a plugin shares beyond its streams: metrics (summed over the workers, as Envoy keeps one
// stat per name), shared data and queues of its vm_id (shared-state.ts), foreign functions.

import { WasmResult } from "./abi/enums.js";
import { toBytes } from "./abi/pairs.js";
import { metricsOf } from "./imports/metrics.js";
import type { MetricValue, SharedDataValue } from "./plugin-options.js";
import { PluginCallouts } from "./plugin-callouts.js";
import {
  dequeue,
  enqueue,
  getSharedData,
  queueItems,
  resolveQueue,
  setSharedData,
  sharedDataEntries,
} from "./shared-state.js";
import { flushPosted, type ForeignFunction } from "./vm.js";

export abstract class PluginShared extends PluginCallouts {
  /**
   * The metrics the plugin defined, by name. Envoy keeps one stat per name for all workers: the
   * workers' values are added up (histograms keep every worker's samples). Any time.
   */
  metrics(): MetricValue[] {
    const kinds = ["counter", "gauge", "histogram"] as const;
    const merged = new Map<string, MetricValue>();
    for (const w of this.vms) {
      for (const m of metricsOf(w.vm).byName.values()) {
        const key = `${m.type}\0${m.name}`;
        const seen = merged.get(key);
        if (seen) {
          seen.value += m.value;
          seen.samples.push(...m.samples);
        } else {
          merged.set(key, { name: m.name, type: kinds[m.type], value: m.value, samples: [...m.samples] });
        }
      }
    }
    return [...merged.values()];
  }

  /** One metric by name (and type, when names repeat across types), or undefined. Any time. */
  metric(name: string, type?: MetricValue["type"]): MetricValue | undefined {
    return this.metrics().find((m) => m.name === name && (type === undefined || m.type === type));
  }

  /** A key of this plugin's vm_id store (shared by every plugin with that vm_id). Any time. */
  sharedData(key: string): SharedDataValue | undefined {
    const entry = getSharedData(this.vmId, key);
    return entry && { value: entry.value.slice(), text: new TextDecoder().decode(entry.value), cas: entry.cas };
  }

  /** Every key of this plugin's vm_id store. Any time. */
  sharedDataEntries(): Record<string, SharedDataValue> {
    const decoder = new TextDecoder();
    return Object.fromEntries(sharedDataEntries(this.vmId).map(([k, e]) => [k, { value: e.value, text: decoder.decode(e.value), cas: e.cas }]));
  }

  /** Writes shared data as another VM would, with the same CAS rules (0 = unconditional). Any time. */
  setSharedData(key: string, value: string | Uint8Array, cas = 0): WasmResult {
    return setSharedData(this.vmId, key, toBytes(value), cas >>> 0);
  }

  /**
   * A shared queue of `vmId` (default: this plugin's): its token and the items not dequeued yet,
   * or undefined if nobody registered it. Any time.
   */
  queue(name: string, vmId = this.vmId): { token: number; items: Uint8Array[] } | undefined {
    const token = resolveQueue(vmId, name);
    if (token === undefined) return undefined;
    return { token, items: queueItems(token) ?? [] };
  }

  /**
   * Enqueues as another VM would; the consumer's on_queue_ready runs before this returns (after
   * this call, as Envoy posts it). NOT_FOUND if the queue is not registered. Any time.
   */
  enqueue(name: string, value: string | Uint8Array, vmId = this.vmId): WasmResult {
    const token = resolveQueue(vmId, name);
    if (token === undefined) return WasmResult.NotFound;
    const result = enqueue(token, toBytes(value));
    flushPosted();
    return result;
  }

  /** Takes the oldest item of a queue as another VM would; undefined when empty or unknown. Any time. */
  dequeue(name: string, vmId = this.vmId): Uint8Array | undefined {
    const token = resolveQueue(vmId, name);
    if (token === undefined) return undefined;
    const item = dequeue(token);
    return typeof item === "number" ? undefined : item;
  }

  /**
   * Makes `name` callable through proxy_call_foreign_function. The function gets the argument
   * bytes and returns output bytes or a string (OK), a WasmResult number (that status, no output),
   * or nothing (OK, no output). It replaces Envoy's built-in of the same name. Any time.
   */
  registerForeignFunction(name: string, fn: ForeignFunction): void {
    this.foreign.set(name, fn);
    for (const w of this.vms) w.vm.foreignFunctions.set(name, fn);
  }
}

// Each VM's linear memory, sampled for the inspector: every `intervalMs`, and after a request
// when it changed (so a leak shows at the pace of the traffic, not of the timer).

import type { Plugin } from "../../host/index.js";
import type { InspectorSink } from "./events.js";

export interface SampledVm {
  name: string;
  version: number;
  plugin: Plugin;
}

export class MemorySampler {
  private timer: NodeJS.Timeout | null = null;
  /** The last pages sent per VM label. */
  private readonly last = new Map<string, number>();

  constructor(
    private readonly sink: InspectorSink,
    private readonly vms: () => SampledVm[],
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.sample(true);
    this.timer = setInterval(() => this.sample(true), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Sends every VM's pages (`always`), or only those that changed since the last sample. */
  sample(always: boolean): void {
    const at = Date.now();
    const live = new Set<string>();
    for (const { name, version, plugin } of this.vms()) {
      if (!plugin.started) continue;
      for (const worker of plugin.workers) {
        const vm = `${name} v${version}${worker.index > 0 ? ` w${worker.index}` : ""}`;
        live.add(vm);
        if (!always && this.last.get(vm) === worker.memoryPages) continue;
        this.last.set(vm, worker.memoryPages);
        this.sink({ type: "memory", vm, filter: name, at, pages: worker.memoryPages });
      }
    }
    // Forget replaced versions, so reloads do not grow this map.
    if (always) for (const vm of this.last.keys()) if (!live.has(vm)) this.last.delete(vm);
  }
}

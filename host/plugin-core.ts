// The plugin as a test holds it (plugin.ts builds on this): its module, options and clock, the
// VMs once start() loaded them (plugin-load.ts), their state, and how new work picks a worker.

import { readFileSync } from "node:fs";
import { HostClock } from "./clock.js";
import type { FailurePolicy } from "./failure-policy.js";
import { checkModule, type ModuleCheck } from "./module.js";
import type { PluginOptions, StartResult, WorkerInfo } from "./plugin-options.js";
import { loadPlugin } from "./plugin-load.js";
import { monotonicMs, type PluginVm, type StreamSettings } from "./plugin-vm.js";
import type { Workers } from "./plugin-workers.js";
import { MergedProperties, type PropertyValue } from "./properties.js";
import type { LogEntry } from "./results.js";
import type { ForeignFunction } from "./vm.js";

const NO_PROPERTIES: ReadonlyMap<string, PropertyValue> = new Map();

export abstract class PluginCore {
  /** Logs of root-level operations: start, ticks, callout answers, queue notifications, shutdown. */
  readonly logs: LogEntry[] = [];
  protected startResult: StartResult | null = null;
  /** The VMs, once the module was compiled (also when a start-up then failed). */
  protected fleet: Workers | null = null;
  protected policy: FailurePolicy | null = null;
  protected readonly clock: HostClock;
  protected readonly foreign = new Map<string, ForeignFunction>();
  protected nextConnectionId = 1;

  /** Loads nothing yet: start() does, and reports a bad module instead of throwing. */
  constructor(
    protected readonly wasm: Uint8Array | string,
    protected readonly options: PluginOptions = {},
  ) {
    this.clock = new HostClock(options.now);
  }

  /** Whether start() succeeded. Any time. */
  get started(): boolean {
    return this.startResult?.ok === true;
  }

  /** True when the start failed or a trap failed a worker's VM since (and no reload replaced it). Any time. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Why the start or a worker's VM failed (Envoy's message), or null. Any time. */
  get failure(): string | null {
    if (this.startResult?.ok === false) return this.startResult.error;
    return this.vms.find((w) => w.vm.failure !== null)?.vm.failure ?? null;
  }

  /**
   * The size of the module's linear memory in 64 KiB pages, the largest of the workers' (0 before
   * a start that got as far as instantiating). It only grows: a leak shows as growth across many
   * requests. Any time.
   */
  get memoryPages(): number {
    return Math.max(0, ...this.vms.map(pagesOf));
  }

  /** The root context id (1 for the first plugin of a VM), or null before a successful start. */
  get rootContextId(): number | null {
    return this.vms[0]?.root?.id ?? null;
  }

  /**
   * "running", "draining" (on_done answered false, waiting for proxy_done) or "deleted" (every
   * worker's root was deleted). Any time.
   */
  get state(): "running" | "draining" | "deleted" {
    const states = this.vms.map((w) => w.state);
    if (states.length > 0 && states.every((s) => s === "deleted")) return "deleted";
    return states.some((s) => s !== "running") ? "draining" : "running";
  }

  /**
   * The worker VMs (one without `concurrency`): each one's root-level logs, root context, tick
   * period, memory, failure and how often FAIL_RELOAD recreated it. Any time.
   */
  get workers(): WorkerInfo[] {
    return this.vms.map((w, index) => ({
      index,
      logs: w.logs,
      rootContextId: w.root?.id ?? null,
      tickPeriodMs: w.tickPeriodMs,
      memoryPages: pagesOf(w),
      failure: w.vm.failure,
      reloads: this.fleet!.reloads[index],
    }));
  }

  /** cpp-host's load checks for this module (the Envoy-ready check), without starting it. Any time. */
  moduleCheck(): ModuleCheck {
    return checkModule(typeof this.wasm === "string" ? readFileSync(this.wasm) : this.wasm);
  }

  /**
   * Loads and starts the plugin as Envoy does. Idempotent: later calls return the first result.
   * Other methods call it implicitly, and throw if the start failed.
   */
  start(): StartResult {
    if (this.startResult) return this.startResult;
    const before = this.logs.length;
    const loaded = loadPlugin(this.wasm, this.options, this.logs, this.clock, this.foreign);
    this.fleet = loaded.fleet;
    this.policy = loaded.policy;
    this.startResult = { ok: loaded.error === null, error: loaded.error, logs: this.logs.slice(before) };
    return this.startResult;
  }

  // ---- Internals ---------------------------------------------------------------------------

  protected get vmId(): string {
    return this.options.vmId ?? "";
  }

  protected get vms(): PluginVm[] {
    return this.fleet?.vms ?? [];
  }

  protected streamSettings(properties?: Record<string, PropertyValue>): StreamSettings {
    return {
      failOpen: this.policy?.failOpen === true,
      properties: this.mergedProperties(properties),
      connectionId: this.nextConnectionId++,
      bufferLimitBytes: this.options.bufferLimitBytes,
      connectionManagerHeaders: this.options.connectionManagerHeaders === true,
    };
  }

  protected mergedProperties(properties?: Record<string, PropertyValue>): ReadonlyMap<string, PropertyValue> {
    if (this.options.properties === undefined && properties === undefined) return NO_PROPERTIES;
    return new MergedProperties(this.options.properties, properties);
  }

  /** Throws unless the plugin started; returns its workers. */
  protected running(): Workers {
    const start = this.start();
    if (!start.ok || !this.fleet) {
      throw new Error(`the plugin did not start (${start.error}); Envoy would have rejected this configuration`);
    }
    return this.fleet;
  }

  /** The worker for new work (a stream or connection); throws after shutdown. */
  protected pick(worker: number | undefined): PluginVm {
    const target = this.running().pick(worker, monotonicMs(this.clock));
    if (target.state !== "running") throw new Error(`the plugin was shut down (${target.state})`);
    return target;
  }
}

function pagesOf(worker: PluginVm): number {
  return worker.vm.memory ? worker.vm.memory.size / 65536 : 0;
}

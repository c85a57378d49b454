// The VMs a plugin runs, as Envoy starts them (cpp-host wasm.cc createWasm, canary,
// getOrCreateThreadLocalPlugin): a base VM that only loads the module and runs its start function
// (_initialize/main or _start); a configuration canary, a clone that runs the root's start-up
// (on_context_create, on_vm_start, on_configure) to validate the configuration and is then
// dropped without on_done; then one clone per worker thread (--concurrency), each running the
// start-up again with its own root context, ticks, globals and memory. Shared data and queues
// are shared by vm_id (shared-state.ts), as in one Envoy process.
//
// Without `concurrency` the plugin runs one VM, started once (no base VM, no canary): a unit
// test then reads like the one VM it exercises.
//
// New streams go round-robin over the workers (or to the one asked for); under FAIL_RELOAD a
// worker whose VM failed gets a new VM first (failure-policy.ts).

import type { FailurePolicy } from "./failure-policy.js";
import { PluginVm, type VmSettings } from "./plugin-vm.js";
import type { LogEntry } from "./results.js";

export class Workers {
  /** The worker VMs, by index; a reload replaces one in place. */
  readonly vms: PluginVm[] = [];
  /** How many times each worker's VM was recreated (FAIL_RELOAD). */
  readonly reloads: number[] = [];
  /** Per worker: when its VM was last (re)loaded, or a reload last tried (Envoy's last_load). */
  private readonly lastLoadMs: number[] = [];
  private next = 0;

  constructor(
    private readonly settings: VmSettings,
    private readonly policy: FailurePolicy,
    /** The plugin's log: start-up of every VM, and each worker's root-level work. */
    private readonly pluginLogs: LogEntry[],
  ) {}

  /** Starts the VMs; returns the error Envoy reports (the configuration is rejected), or null. */
  start(concurrency: number | undefined, callerManagesVms: boolean): string | null {
    const identity = this.settings.identity;
    if (concurrency === undefined) {
      const only = PluginVm.instantiate(this.settings, this.pluginLogs);
      if (typeof only === "string") return only;
      if (!callerManagesVms) warnOneVm(only);
      this.add(only);
      return only.start(identity);
    }
    const base = PluginVm.instantiate(this.settings, this.pluginLogs);
    if (typeof base === "string") return base;
    if (!base.startVm()) return base.vm.failure;
    const canary = PluginVm.instantiate(this.settings, this.pluginLogs);
    if (typeof canary === "string") return canary;
    const canaryError = canary.start(identity, "base");
    if (canaryError !== null) return canaryError;
    for (let k = 0; k < concurrency; k++) {
      const worker = PluginVm.instantiate(this.settings, []);
      if (typeof worker === "string") return worker;
      worker.vm.echoLogSink = this.pluginLogs;
      this.add(worker);
      const error = worker.start(identity, "thread-local");
      if (error !== null) return `worker ${k}: ${error}`;
    }
    return null;
  }

  /**
   * The worker for a new stream: `worker` if given, else the next one round-robin. Under
   * FAIL_RELOAD its failed VM is recreated first when the backoff has passed.
   */
  pick(worker: number | undefined, nowMs: number): PluginVm {
    const count = this.vms.length;
    if (worker !== undefined && !(Number.isInteger(worker) && worker >= 0 && worker < count)) {
      throw new Error(`no worker ${worker}: the plugin runs ${count === 1 ? "worker 0" : `workers 0 to ${count - 1}`}`);
    }
    const index = worker ?? this.next++ % count;
    this.maybeReload(index, nowMs);
    return this.vms[index];
  }

  /** The index of a worker VM (also of one a reload replaced since), or -1. */
  indexOf(target: PluginVm): number {
    return this.vms.indexOf(target);
  }

  private add(worker: PluginVm): void {
    this.vms.push(worker);
    this.reloads.push(0);
    this.lastLoadMs.push(worker.loadedAtMs);
  }

  /** Envoy PluginConfig::maybeReloadHandleIfNeeded() for one worker. */
  private maybeReload(index: number, nowMs: number): void {
    const current = this.vms[index];
    if (this.policy.name !== "FAIL_RELOAD" || current.vm.failure === null || current.root === null) return;
    if (nowMs - this.lastLoadMs[index] < this.policy.reloadAfterMs) return;
    this.lastLoadMs[index] = nowMs;
    const fresh = PluginVm.instantiate(this.settings, current.logs);
    if (typeof fresh === "string") return;
    fresh.vm.echoLogSink = current.vm.echoLogSink;
    const error = fresh.start(this.settings.identity, "thread-local");
    if (error !== null) {
      fresh.vm.log(3, `FAIL_RELOAD: recreating worker ${index}'s VM failed (${error}); it stays failed until the next try`);
      return;
    }
    this.vms[index] = fresh;
    this.reloads[index]++;
    fresh.vm.log(3, `FAIL_RELOAD: worker ${index}'s VM had failed (${current.vm.failure}); a new VM replaced it, with none of its state`);
  }
}

const START_UP = ["proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure"];

/**
 * The one-VM default is kinder than Envoy, whose configuration canary runs the root's start-up
 * before every worker runs it again: say so, once per plugin, when the module has a start-up.
 */
function warnOneVm(only: PluginVm): void {
  const startUp = START_UP.filter((name) => only.vm.has(name));
  if (startUp.length === 0) return;
  only.vm.log(
    3,
    `host: no concurrency given, so ${startUp.map((n) => n.slice("proxy_".length)).join(", ")} run${startUp.length === 1 ? "s" : ""} once, in the one VM that serves every stream; ` +
      "Envoy runs them in a configuration canary VM it then drops, then again in each worker's VM (its own globals and root): " +
      "set concurrency (Istio's sidecars: 2) to test that",
  );
}
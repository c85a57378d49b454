// One VM of a plugin, as cpp-host runs one on a thread: its instance (instantiated and started
// with _initialize), its root context and the root's start-up (wasm.cc start()/configure(),
// context.cc onStart/onConfigure): on_context_create(R, 0) -> on_vm_start(R, vm_config_size) ->
// on_configure(R, plugin_config_size); false from either fails the start. It owns the streams and
// connections that run on it, its root's ticks and its shutdown.

import type { AbiVersion } from "./abi/signatures.js";
import type { HostClock } from "./clock.js";
import type { HostContext, PluginIdentity } from "./context.js";
import { DEFAULT_BUFFER_LIMIT_BYTES, HttpStream } from "./http-stream.js";
import type { PropertyValue } from "./properties.js";
import type { LogEntry } from "./results.js";
import { TcpConnection } from "./tcp-connection.js";
import { Vm, type ForeignFunction } from "./vm.js";
import type { ParsedModule } from "./wasm-binary.js";
import type { ModuleDebugInfo } from "./debug/trap-location.js";

/** What every VM of a plugin is created with. */
export interface VmSettings {
  module: WebAssembly.Module;
  parsed: ParsedModule;
  abi: AbiVersion;
  identity: PluginIdentity;
  vmConfiguration: Uint8Array;
  logLevel: number;
  environment: Record<string, string>;
  clusters: string[] | undefined;
  clock: HostClock;
  foreign: ReadonlyMap<string, ForeignFunction>;
  callbackDeadlineMs: number | undefined;
  debugInfo?: ModuleDebugInfo;
  onFailure?: (failure: string, critical: string | null) => void;
}

/** What a new stream or connection on this VM gets from the plugin. */
export interface StreamSettings {
  failOpen: boolean;
  properties: ReadonlyMap<string, PropertyValue>;
  connectionId: number;
  bufferLimitBytes?: number;
  connectionManagerHeaders?: boolean;
}

export type ShutdownState = "running" | "draining" | "deleted";

export class PluginVm {
  /** The root context, once start-up created it. */
  root: HostContext | null = null;
  readonly streams = new Set<HttpStream>();
  readonly connections = new Set<TcpConnection>();
  state: ShutdownState = "running";
  /** What on_done answered at shutdown; null before. */
  doneAnswer: boolean | null = null;

  private constructor(
    readonly vm: Vm,
    /** Where this VM's root-level operations log (start-up, ticks, callout answers). */
    readonly logs: LogEntry[],
    /** When the VM was created (the monotonic clock, ms): FAIL_RELOAD's backoff counts from it. */
    readonly loadedAtMs: number,
  ) {}

  /** Instantiates the module. Returns the VM, or the error Envoy reports (logged to `logs`). */
  static instantiate(settings: VmSettings, logs: LogEntry[]): PluginVm | string {
    const vm = new Vm({
      abi: settings.abi,
      vmId: settings.identity.vmId,
      pluginName: settings.identity.name,
      vmConfiguration: settings.vmConfiguration,
      logLevel: settings.logLevel,
      environment: settings.environment,
      clusters: settings.clusters,
      clock: settings.clock,
      callbackDeadlineMs: settings.callbackDeadlineMs,
      debugInfo: settings.debugInfo,
      onFailure: settings.onFailure,
    });
    vm.logSink = logs;
    vm.homeLogSink = logs;
    for (const [name, fn] of settings.foreign) vm.foreignFunctions.set(name, fn);
    const linkError = vm.instantiate(settings.module, settings.parsed);
    if (linkError) {
      vm.log(4, linkError);
      return linkError;
    }
    return new PluginVm(vm, logs, monotonicMs(settings.clock));
  }

  /** Runs the module's start function (cpp-host startVm) alone, as Envoy's base VM does. */
  startVm(): boolean {
    return this.vm.start();
  }

  /**
   * Runs the module's start function (cpp-host startVm, under Envoy's restrictions), then creates
   * the root context and starts it. Returns the error Envoy reports, or null.
   */
  start(identity: PluginIdentity, role: "base" | "thread-local" = "base"): string | null {
    const vm = this.vm;
    if (!this.startVm()) return vm.failure;
    const root = vm.newContext("root", identity, null);
    this.root = root;
    let error: string | null = null;
    // A false answer is reported as the start's error only; the logs keep what the module said.
    vm.runOperation(this.logs, () => (error = onStart(vm, root, identity, role)));
    return error;
  }

  /** The root, for work that needs a started VM. */
  get startedRoot(): HostContext {
    if (!this.root) throw new Error("the VM has no root context");
    return this.root;
  }

  newHttpStream(settings: StreamSettings): HttpStream {
    const stream = new HttpStream({
      vm: this.vm,
      root: this.startedRoot,
      failOpen: settings.failOpen,
      properties: settings.properties,
      connectionId: settings.connectionId,
      bufferLimitBytes: settings.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES,
      connectionManagerHeaders: settings.connectionManagerHeaders,
      onFinished: (s) => this.streams.delete(s),
    });
    this.streams.add(stream);
    return stream;
  }

  newTcpConnection(settings: StreamSettings): TcpConnection {
    const connection = new TcpConnection({
      vm: this.vm,
      root: this.startedRoot,
      failOpen: settings.failOpen,
      properties: settings.properties,
      connectionId: settings.connectionId,
      onFinished: (c) => this.connections.delete(c),
    });
    this.connections.add(connection);
    return connection;
  }

  /** A root-level operation: logs go to `sink`; then posted work runs and streams settle. */
  operation(fn: () => void, sink: LogEntry[] = this.logs): void {
    this.vm.runOperation(sink, () => {
      fn();
      this.vm.runPosted();
      for (const s of this.streams) s.settle();
      for (const c of this.connections) c.settle();
    });
    this.updateShutdownState();
  }

  /** The root's tick period (0 = none). */
  get tickPeriodMs(): number {
    return this.root ? (this.vm.tickPeriods.get(this.root.id) ?? 0) : 0;
  }

  /** When the root's next tick is due (virtual ms), if it has a period. */
  get tickDueMs(): number | undefined {
    return this.root && this.tickPeriodMs > 0 ? this.vm.tickDue.get(this.root.id) : undefined;
  }

  /** on_tick on the root, then Envoy's tickHandler() re-arms with the (possibly new) period. */
  fireTick(nowMs: number): void {
    const vm = this.vm;
    const root = this.startedRoot;
    this.operation(() => {
      if (this.state !== "deleted" && vm.failure === null && vm.has("proxy_on_tick")) vm.call("proxy_on_tick", root, root.id);
      const period = vm.tickPeriods.get(root.id) ?? 0;
      if (period > 0) vm.tickDue.set(root.id, nowMs + period);
      else vm.tickDue.delete(root.id);
    });
  }

  /**
   * cpp-host startShutdown(): on_done(root); true -> on_delete now; false -> the root waits for
   * proxy_done (wasm.cc done()), after which on_delete runs.
   */
  shutdown(): void {
    const vm = this.vm;
    const root = this.startedRoot;
    if (this.state === "running") {
      this.operation(() => {
        let done = true;
        if (vm.failure === null && vm.has("proxy_on_done")) done = vm.call("proxy_on_done", root, root.id) !== 0;
        if (vm.failure !== null) done = true;
        this.doneAnswer = done;
        if (done) vm.deleteRoot(root);
        else vm.pendingDone.add(root.id);
      });
    }
    this.updateShutdownState();
  }

  private updateShutdownState(): void {
    const root = this.root;
    const vm = this.vm;
    if (!root || (this.state === "running" && !vm.pendingDone.has(root.id) && !vm.deletedRoots.has(root.id))) return;
    this.state = vm.deletedRoots.has(root.id) ? "deleted" : "draining";
  }
}

/**
 * context.cc onStart() then onConfigure() on a new root. cpp-host words a failure "base" in the
 * configuration canary (WasmHandleBase::canary) and "thread-local" on a worker.
 */
function onStart(vm: Vm, root: HostContext, identity: PluginIdentity, role: "base" | "thread-local"): string | null {
  if (vm.has("proxy_on_context_create")) {
    root.tempPluginConfiguration = identity.configuration;
    vm.call("proxy_on_context_create", root, root.id, 0);
    root.tempPluginConfiguration = null;
  }
  if (vm.failure) return vm.failure;
  // on_vm_start runs without temp_plugin_: PLUGIN_CONFIGURATION is NOT_FOUND there.
  if (vm.has("proxy_on_vm_start")) {
    const ok = vm.call("proxy_on_vm_start", root, root.id, vm.config.vmConfiguration.length);
    if (vm.failure) return vm.failure;
    if (ok === 0) return `Failed to start ${role} Wasm: proxy_on_vm_start returned false`;
  }
  if (vm.has("proxy_on_configure")) {
    root.tempPluginConfiguration = identity.configuration;
    const ok = vm.call("proxy_on_configure", root, root.id, identity.configuration.length);
    root.tempPluginConfiguration = null;
    if (vm.failure) return vm.failure;
    if (ok === 0) return `Failed to configure ${role} Wasm plugin: proxy_on_configure returned false`;
  }
  return null;
}

/** Envoy's dispatcher time: real time plus advanceTime(), or advanceTime() alone with a fixed `now`. */
export function monotonicMs(clock: HostClock): number {
  return Number(clock.monotonicNs() / 1_000_000n);
}

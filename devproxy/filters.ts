// The filters of one dev proxy: each .wasm loaded as a plugin (one VM, as one Envoy worker has),
// reloaded when it changes (--watch), its ticks on real timers, its callouts sent, its logs
// printed. `settle()` moves everything along after any event: work posted across VMs, new
// callouts, tick periods, and every exchange in flight. Nothing here touches the proxy's sockets,
// so a worker thread can run its own FilterSet.

import { createHash } from "node:crypto";
import { readFileSync, unwatchFile, watchFile, type Stats } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { LogLevelName } from "../host/abi/enums.js";
import { createPlugin, type PendingHttpCall, type Plugin, type PluginOptions } from "../host/index.js";
import { LiveById } from "../host/live-by-id.js";
import { calloutsSoFar, workPostedSoFar } from "../host/vm.js";
import { sendCallout, type CalloutAnswer } from "./callouts.js";
import type { Exchange } from "./exchange.js";
import type { InspectorSink } from "./inspector/events.js";
import { MemorySampler } from "./inspector/memory.js";
import { ExchangeTrace } from "./inspector/trace.js";
import type { Logger } from "./log.js";

/**
 * How long a replaced version whose on_done answered false may keep running (ticks, callouts)
 * before it calls proxy_done. Envoy has no such limit; a dev proxy that reloads all day would
 * keep every such version.
 */
export const DRAIN_LIMIT_MS = 60_000;

export interface FilterSpec {
  /** Path of the filter's .wasm file. */
  path: string;
  /** Shown in logs and metrics; by default the project folder of build/plugin.wasm, or the file name. */
  name?: string;
  configuration?: string | Uint8Array;
  rootId?: string;
  vmId?: string;
}

export interface FilterSetOptions {
  filters: FilterSpec[];
  /** Cluster name -> base URL for http_call. */
  clusters: Record<string, string>;
  failOpen: boolean;
  /** PluginOptions.failurePolicy, reloadBackoffMs, callbackDeadlineMs, concurrency and callerManagesVms for every filter. */
  vms: Pick<PluginOptions, "failurePolicy" | "reloadBackoffMs" | "callbackDeadlineMs" | "concurrency" | "callerManagesVms">;
  logLevel: LogLevelName;
  /** Envoy's per_connection_buffer_limit_bytes for every stream. */
  bufferLimitBytes: number;
  verbose: boolean;
  /** Where the inspector's events go (plain JSON objects); without one nothing is traced. */
  inspector?: InspectorSink;
  /** Told every answer delivered to a callout (run --record). */
  calloutAnswered?: (plugin: Plugin, token: number, answer: CalloutAnswer) => void;
  /** How long a replaced version whose on_done answered false may wait for proxy_done (DRAIN_LIMIT_MS). */
  drainLimitMs?: number;
}

/** A loaded version of one filter. */
export interface Loaded {
  slot: Slot;
  plugin: Plugin;
  version: number;
  bytesHash: string;
  /** Callouts sent and not yet answered, and gRPC calls being refused, as "worker:token" (tokens count per VM). */
  dispatched: Set<string>;
  grpcRefused: Set<string>;
  tickTimer: NodeJS.Timeout | null;
  tickPeriod: number;
  exchanges: number;
  callouts: number;
  retired: boolean;
  /** Set while a retired version's root waits for proxy_done (its on_done answered false). */
  drainTimer: NodeJS.Timeout | null;
}

interface Slot {
  spec: FilterSpec;
  name: string;
  path: string;
  current: Loaded;
  reloadTimer: NodeJS.Timeout | null;
}

export class FilterSet {
  readonly slots: Slot[] = [];
  private readonly loaded = new Set<Loaded>();
  /** The exchanges in flight, by a number of their own (`track`). */
  readonly exchanges = new LiveById<Exchange>();
  private exchangesTracked = 0;
  private settling = false;
  /** calloutsSoFar() when the last settle looked for new calls. */
  private calloutsSeen = -1;
  /** workPostedSoFar() at the last settle. */
  private postedSeen = -1;
  readonly counts = { reloads: 0, reloadsRefused: 0, callouts: 0, calloutFailures: 0 };
  private readonly memory: MemorySampler | null;
  private traces = 0;

  constructor(
    private readonly options: FilterSetOptions,
    private readonly log: Logger,
  ) {
    const sink = options.inspector;
    this.memory = sink ? new MemorySampler(sink, () => [...this.loaded].filter((l) => !l.retired).map((l) => ({ name: l.slot.name, version: l.version, plugin: l.plugin }))) : null;
  }

  /** The inspector's trace for a new exchange through `chain`, or null without an inspector. */
  trace(chain: Loaded[], method: string, path: string): ExchangeTrace | null {
    const sink = this.options.inspector;
    if (!sink) return null;
    return new ExchangeTrace(String(++this.traces), method, path, chain.map((l) => ({ name: l.slot.name, version: l.version, plugin: l.plugin })), sink);
  }

  /** After a request: a memory sample for each VM whose memory changed. */
  sampleMemory(): void {
    this.memory?.sample(false);
  }

  /** Loads and starts every filter; throws with the reason if one does not start. */
  load(): void {
    const names = filterNames(this.options.filters);
    for (const [i, spec] of this.options.filters.entries()) {
      const name = names[i];
      const path = resolve(spec.path);
      const slot = { spec, name, path, reloadTimer: null } as unknown as Slot;
      const result = this.start(slot, readWasm(path), 1);
      if ("error" in result) throw new Error(`${name} (${spec.path}) did not start: ${result.error}`);
      slot.current = result.loaded;
      this.slots.push(slot);
    }
    this.memory?.start();
  }

  /** Counts an exchange in flight until `exchanges.delete(key)`; returns its key. */
  track(exchange: Exchange): number {
    const key = ++this.exchangesTracked;
    this.exchanges.set(key, exchange);
    return key;
  }

  /** The current version of every filter, in chain order, counted as busy until `release`. */
  acquireChain(): Loaded[] {
    const chain = this.slots.map((s) => s.current);
    for (const l of chain) l.exchanges++;
    return chain;
  }

  release(chain: Loaded[]): void {
    for (const l of chain) {
      l.exchanges--;
      this.retireIfIdle(l);
    }
  }

  watch(): void {
    for (const slot of this.slots) {
      watchFile(slot.path, { interval: 200 }, (curr: Stats, prev: Stats) => {
        if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) return;
        if (slot.reloadTimer) clearTimeout(slot.reloadTimer);
        // Let the writer finish (asc writes the file in one go; editors and cp may not).
        slot.reloadTimer = setTimeout(() => {
          slot.reloadTimer = null;
          this.reload(slot);
        }, 150);
      });
    }
  }

  stop(): void {
    this.memory?.stop();
    for (const slot of this.slots) {
      unwatchFile(slot.path);
      if (slot.reloadTimer) clearTimeout(slot.reloadTimer);
    }
    for (const l of this.loaded) {
      this.stopTicks(l);
      if (l.drainTimer) clearTimeout(l.drainTimer);
    }
    for (const ex of this.exchanges.values()) ex.finish();
    this.exchanges.clear();
  }

  /**
   * After anything happened: run work posted across VMs, send new callouts, print plugin logs,
   * update tick timers, and move every exchange along, until nothing changes. After input into
   * one exchange (`only`, which that input already moved) only it is moved, unless some VM
   * posted work meanwhile (a queue's on_queue_ready may move any stream): pumping every exchange
   * in flight after every chunk cost more than the chunk's own callbacks.
   */
  settle(only?: Exchange): void {
    if (this.settling) return;
    this.settling = true;
    let all = only === undefined;
    try {
      for (let round = 0; round < 1000; round++) {
        const posted = workPostedSoFar();
        all ||= posted !== this.postedSeen;
        this.postedSeen = posted;
        let progress = false;
        // Listing the calls costs more than the rest of a settle: only when a callout was made since.
        const made = calloutsSoFar();
        const newCallouts = made !== this.calloutsSeen;
        this.calloutsSeen = made;
        for (const l of this.loaded) {
          if (newCallouts) {
            progress = this.dispatchCallouts(l) || progress;
            progress = this.refuseGrpc(l) || progress;
          }
          this.flushLogs(l);
          this.updateTicks(l);
        }
        if (all) for (const ex of this.exchanges.values()) progress = ex.pump() || progress;
        else progress = only!.pump() || progress;
        if (!progress) break;
      }
    } finally {
      this.settling = false;
    }
  }

  private start(slot: Slot, bytes: Uint8Array, version: number): { loaded: Loaded } | { error: string } {
    const plugin = filterPlugin(bytes, slot.spec, slot.name, this.options, slot.path);
    const start = plugin.start();
    this.log.pluginLogs(start.logs.map((l) => ({ filter: slot.name, ...l })));
    forgetLogs(plugin);
    if (!start.ok) return { error: start.error ?? "the plugin did not start" };
    const loaded: Loaded = {
      slot,
      plugin,
      version,
      bytesHash: createHash("sha256").update(bytes).digest("hex"),
      dispatched: new Set(),
      grpcRefused: new Set(),
      tickTimer: null,
      tickPeriod: 0,
      exchanges: 0,
      callouts: 0,
      retired: false,
      drainTimer: null,
    };
    this.loaded.add(loaded);
    return { loaded };
  }

  /** Loads `bytes` (already checked by the main thread's canary) as filter `index`'s new version. */
  reloadWith(index: number, bytes: Uint8Array): void {
    const slot = this.slots[index];
    if (slot) this.reload(slot, bytes, false);
  }

  private reload(slot: Slot, given?: Uint8Array, announce = true): void {
    const old = slot.current;
    let bytes: Uint8Array;
    try {
      bytes = given ?? readWasm(slot.path);
    } catch (e) {
      return this.refuse(slot, (e as Error).message);
    }
    if (createHash("sha256").update(bytes).digest("hex") === old.bytesHash) return;
    const result = this.start(slot, bytes, old.version + 1);
    if ("error" in result) return this.refuse(slot, result.error);
    slot.current = result.loaded;
    old.retired = true;
    this.retireIfIdle(old);
    this.counts.reloads++;
    // A worker thread's reload was announced by the main thread, once for all workers.
    if (announce) {
      this.log.event(
        "reload",
        { filter: slot.name, ok: true, version: result.loaded.version },
        `reloaded ${slot.name} (version ${result.loaded.version}) from ${slot.path}`,
      );
    }
    this.settle();
  }

  private refuse(slot: Slot, reason: string): void {
    this.counts.reloadsRefused++;
    this.log.event(
      "reload",
      { filter: slot.name, ok: false, version: slot.current.version, error: reason },
      `reload refused: ${slot.name} changed but the new version did not start: ${reason}; still serving version ${slot.current.version}`,
      "red",
    );
  }

  /**
   * A replaced version that has nothing in flight: on_done, then on_delete and it is forgotten.
   * A root whose on_done answers false stays in cpp-host's pending_done_ and Envoy's tickHandler
   * still ticks it, so it keeps its ticks and callouts until proxy_done deletes it (checked again
   * after each of its ticks and callout answers), for at most the drain limit.
   */
  private retireIfIdle(l: Loaded): void {
    if (!l.retired || l.exchanges > 0 || l.callouts > 0 || !this.loaded.has(l)) return;
    if (l.drainTimer === null) {
      try {
        if (l.plugin.started) l.plugin.shutdown();
      } catch (e) {
        this.log.error(`${l.slot.name}: shutting down version ${l.version} failed: ${(e as Error).message}`);
      }
      this.flushLogs(l);
    }
    if (l.plugin.state === "draining") {
      l.drainTimer ??= setTimeout(() => this.dropDraining(l), this.drainLimitMs);
      return;
    }
    this.forget(l);
  }

  private get drainLimitMs(): number {
    return this.options.drainLimitMs ?? DRAIN_LIMIT_MS;
  }

  /** Envoy sets no limit (the root lives as long as its VM, which drops it without on_delete): ours shows itself. */
  private dropDraining(l: Loaded): void {
    if (!this.loaded.has(l)) return;
    if (l.plugin.state === "draining") {
      this.log.warn(
        `${l.slot.name}: version ${l.version} answered false to on_done and did not call proxy_done within ${this.drainLimitMs} ms: ` +
          "dropped without on_delete (the dev proxy's limit; Envoy sets none, and keeps the root until proxy_done or until its VM goes)",
      );
    }
    this.forget(l);
  }

  private forget(l: Loaded): void {
    if (l.drainTimer) clearTimeout(l.drainTimer);
    l.drainTimer = null;
    this.stopTicks(l);
    this.loaded.delete(l);
    this.flushLogs(l);
  }

  private stopTicks(l: Loaded): void {
    if (l.tickTimer) clearInterval(l.tickTimer);
    l.tickTimer = null;
    l.tickPeriod = 0;
  }

  /** A retired version keeps its ticks until it is deleted, as Envoy's timer outlives startShutdown. */
  private updateTicks(l: Loaded): void {
    if (!l.plugin.started) return;
    const period = l.plugin.tickPeriodMs;
    if (period === l.tickPeriod) return;
    this.stopTicks(l);
    l.tickPeriod = period;
    if (period > 0) {
      l.tickTimer = setInterval(() => {
        try {
          l.plugin.tick();
        } catch (e) {
          this.log.error(`${l.slot.name}: tick failed: ${(e as Error).message}`);
        }
        this.retireIfIdle(l);
        this.settle();
      }, period);
    }
  }

  /** Prints the plugin's new root-level logs (ticks, callout answers) and forgets them: a proxy runs for days. */
  private flushLogs(l: Loaded): void {
    const logs = l.plugin.logs;
    if (logs.length === 0) return;
    const fresh = logs.map((e) => ({ filter: l.slot.name, ...e }));
    forgetLogs(l.plugin);
    this.log.pluginLogs(fresh);
  }

  private dispatchCallouts(l: Loaded): boolean {
    let any = false;
    for (const call of l.plugin.pendingHttpCalls()) {
      const key = `${call.worker}:${call.token}`;
      if (l.dispatched.has(key)) continue;
      l.dispatched.add(key);
      any = true;
      this.counts.callouts++;
      l.callouts++;
      const traced = this.tracedCallout(l, call);
      sendCallout(call, this.options.clusters[call.upstream], {
        filter: l.slot.name,
        verbose: this.options.verbose,
        log: this.log,
        answer: (response, ms, failure) => {
          traced?.(response, ms, failure);
          l.callouts--;
          if (response === null || response === "timeout") this.counts.calloutFailures++;
          this.options.calloutAnswered?.(l.plugin, call.token, response);
          l.dispatched.delete(key); // answered (or refused below): the set holds only calls in flight
          // A version dropped while draining is gone, as a destroyed root's calls are cancelled.
          if (!this.loaded.has(l)) return;
          try {
            if (response === "timeout") l.plugin.timeoutHttpCall(call.token, call.worker);
            else l.plugin.respondToHttpCall(call.token, response, call.worker);
          } catch (e) {
            this.log.error(`${l.slot.name}: delivering the callout response failed: ${(e as Error).message}`);
          }
          this.retireIfIdle(l);
          this.settle();
        },
      });
    }
    return any;
  }

  /** The exchange whose stream made this call records it; returns how to record the answer. */
  private tracedCallout(l: Loaded, call: PendingHttpCall): ((response: CalloutAnswer, ms: number, failure?: string) => void) | null {
    if (!this.options.inspector) return null;
    for (const ex of this.exchanges.values()) {
      const k = ex.filters.findIndex((f, i) => f.plugin === l.plugin && ex.streams[i].id === call.contextId);
      if (k < 0 || !ex.trace) continue;
      const trace = ex.trace;
      const pseudo = (name: string) => call.headers.find(([n]) => n === name)?.[1] ?? "";
      trace.calloutSent(k, call.token, call.upstream, pseudo(":method") || "GET", pseudo(":path") || "/");
      return (response, ms, failure) => {
        const status = response !== null && response !== "timeout" ? Number(response.headers.find(([n]) => n === ":status")?.[1]) : null;
        trace.calloutAnswered(k, call.token, status, ms, failure);
      };
    }
    return null;
  }

  /** gRPC is not routed by the dev proxy: fail each call at once rather than leave it hanging. */
  private refuseGrpc(l: Loaded): boolean {
    let any = false;
    for (const call of l.plugin.grpcCalls()) {
      // A stream closed from our side stays open until the plugin closes it too (as in Envoy).
      const key = `${call.worker}:${call.token}`;
      if (call.remoteClosed || l.grpcRefused.has(key)) continue;
      l.grpcRefused.add(key);
      any = true;
      this.log.warn(`${l.slot.name}: gRPC ${call.kind} to ${call.upstream} ${call.serviceName}/${call.method} closed with UNAVAILABLE: the dev proxy does not route gRPC yet`);
      setImmediate(() => {
        l.grpcRefused.delete(key);
        try {
          const why = "the dev proxy does not route gRPC";
          if (call.kind === "call") l.plugin.failGrpcCall(call.token, 14, why, call.worker);
          else l.plugin.closeGrpcStream(call.token, 14, why, call.worker);
        } catch (e) {
          this.log.error(`${l.slot.name}: closing the gRPC call failed: ${(e as Error).message}`);
        }
        this.settle();
      });
    }
    return any;
  }
}

/** Drops the plugin's root-level logs once printed (plugin.logs and each worker's). */
function forgetLogs(plugin: Plugin): void {
  plugin.logs.length = 0;
  for (const worker of plugin.workers) worker.logs.length = 0;
}

/** One filter's plugin as the dev proxy creates it (not started). */
export function filterPlugin(bytes: Uint8Array, spec: FilterSpec, name: string, options: FilterSetOptions, path: string): Plugin {
  return createPlugin(bytes, {
    name,
    rootId: spec.rootId,
    vmId: spec.vmId,
    configuration: spec.configuration,
    failOpen: options.failOpen,
    ...options.vms,
    logLevel: options.logLevel,
    clusters: Object.keys(options.clusters),
    bufferLimitBytes: options.bufferLimitBytes,
    sourceMap: `${path}.map`,
    reportFailures: false, // the request log shows the VM's failure
  });
}

export function readWasm(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code === "ENOENT" ? `${path} not found (build it first: npx proxy-wasm-as build)` : err.message);
  }
}

/** The filters' names in logs and metrics: given, or from the path (and root id), made unique. */
export function filterNames(specs: FilterSpec[]): string[] {
  const names = new Set<string>();
  return specs.map((spec) => {
    const base = spec.name ?? (spec.rootId ? `${filterName(spec.path)}/${spec.rootId}` : filterName(spec.path));
    let name = base;
    for (let i = 2; names.has(name); i++) name = `${base}#${i}`;
    names.add(name);
    return name;
  });
}

/** examples/add-header/build/plugin.wasm → add-header; other/thing.wasm → thing. */
export function filterName(path: string): string {
  const abs = resolve(path);
  const file = basename(abs, ".wasm");
  const dir = dirname(abs);
  if (basename(dir) === "build") return basename(dirname(dir));
  return file;
}

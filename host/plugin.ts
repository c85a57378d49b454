// A plugin as createPlugin() gives it to a test: the module loaded and checked once, the VMs that
// run it (plugin-workers.ts: one, or Envoy's base VM, canary and one per worker; plugin-vm.ts: one
// VM's instance, root context, start-up), the failure policy its streams follow
// (failure-policy.ts), and everything a test drives from outside: HTTP streams and TCP connections (request-runner.ts
// runs a whole spec), answers to callouts (callout-answers.ts), the clock (ticks and callout
// timeouts), shared state, shutdown. Nothing happens on its own: time only moves in
// advanceTime(), answers only come when a test gives them. Each public method says when it may be
// called.

import { readFileSync } from "node:fs";
import { LOG_LEVELS, WasmResult } from "./abi/enums.js";
import { toBytes } from "./abi/pairs.js";
import type { AbiVersion } from "./abi/signatures.js";
import { answerGrpc, answerHttpCall, pendingCall } from "./callout-answers.js";
import { TIMEOUT_RESPONSE, type HttpCallResponse } from "./callouts.js";
import { HostClock, type TimeInput } from "./clock.js";
import type { HttpCallRecord, PluginIdentity } from "./context.js";
import type { Header } from "./header-map.js";
import type { HttpStream } from "./http-stream.js";
import { metricsOf } from "./imports/metrics.js";
import { defaultCallbackDeadlineMs } from "./deadline.js";
import { failurePolicy, type FailurePolicy } from "./failure-policy.js";
import { checkModule, type ModuleCheck } from "./module.js";
import type {
  GrpcCallInfo,
  MetricValue,
  PendingHttpCall,
  PluginOptions,
  RequestSpec,
  SharedDataValue,
  ShutdownResult,
  StartResult,
  TcpSpec,
  WorkerInfo,
} from "./plugin-options.js";
import { monotonicMs, type PluginVm, type StreamSettings } from "./plugin-vm.js";
import { Workers } from "./plugin-workers.js";
import { encodeProperties, type PropertyValue } from "./properties.js";
import { runHttpRequest, runTcpConnection } from "./request-runner.js";
import type { LogEntry, RequestResult } from "./results.js";
import {
  dequeue,
  enqueue,
  getSharedData,
  queueItems,
  resolveQueue,
  setSharedData,
  sharedDataEntries,
} from "./shared-state.js";
import type { TcpConnection, TcpResult } from "./tcp-connection.js";
import { flushPosted, type ForeignFunction } from "./vm.js";
import { parseModule } from "./wasm-binary.js";
import { ModuleDebugInfo } from "./debug/trap-location.js";
import { withoutSourceMappingUrl, withSourceMappingUrl } from "./debug/custom-sections.js";

const NO_PROPERTIES: ReadonlyMap<string, PropertyValue> = new Map();

export class Plugin {
  /** Logs of root-level operations: start, ticks, callout answers, queue notifications, shutdown. */
  readonly logs: LogEntry[] = [];
  private startResult: StartResult | null = null;
  /** The VMs, once the module was compiled (also when a start-up then failed). */
  private fleet: Workers | null = null;
  private policy: FailurePolicy | null = null;
  private readonly clock: HostClock;
  private readonly foreign = new Map<string, ForeignFunction>();
  private nextConnectionId = 1;

  /** Loads nothing yet: start() does, and reports a bad module instead of throwing. */
  constructor(
    private readonly wasm: Uint8Array | string,
    private readonly options: PluginOptions = {},
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
    const error = this.load();
    this.startResult = { ok: error === null, error, logs: this.logs.slice(before) };
    return this.startResult;
  }

  /**
   * A new HTTP stream to drive phase by phase, on `worker` or the next worker round-robin. Needs
   * a started plugin that was not shut down.
   */
  newHttpStream(properties?: Record<string, PropertyValue>, worker?: number): HttpStream {
    return this.pick(worker).newHttpStream(this.streamSettings(properties));
  }

  /**
   * One whole stream; the upstream answers only if the whole request reached it. Callouts are
   * answered from `spec.httpCallResponses` in order. Needs a started plugin.
   */
  runHttpRequest(spec: RequestSpec = {}): RequestResult {
    const target = this.pick(spec.worker);
    return runHttpRequest(target, target.newHttpStream(this.streamSettings(spec.properties)), spec);
  }

  /**
   * A new TCP connection (on_context_create, on_new_connection) to drive step by step, on
   * `worker` or the next worker round-robin. Needs a started plugin.
   */
  newTcpConnection(properties?: Record<string, PropertyValue>, worker?: number): TcpConnection {
    return this.pick(worker).newTcpConnection(this.streamSettings(properties));
  }

  /**
   * One whole connection: the client's chunks (end_of_stream on the last), the upstream's chunks
   * (end_of_stream on the last, i.e. the upstream close), then the client closes. Needs a started plugin.
   */
  runTcpConnection(spec: TcpSpec = {}): TcpResult {
    const target = this.pick(spec.worker);
    return runTcpConnection(target, target.newTcpConnection(this.streamSettings(spec.properties)), spec);
  }

  // ---- Time --------------------------------------------------------------------------------

  /**
   * Fires proxy_on_tick now on every worker's root that set a tick period (Envoy ticks each
   * worker), and re-arms their timers from the current time. Returns whether any ran. Needs a
   * started plugin.
   */
  tick(): boolean {
    this.running();
    let ran = false;
    for (const worker of this.vms) {
      if (worker.tickPeriodMs === 0) continue;
      worker.fireTick(this.clock.elapsedMs);
      ran = true;
    }
    return ran;
  }

  /** The tick period the (first) worker's root set (0 = none). Any time. */
  get tickPeriodMs(): number {
    return this.vms[0]?.tickPeriodMs ?? 0;
  }

  /**
   * Moves the clock on by `ms`, firing what falls due in order: ticks (re-armed after each
   * on_tick, as Envoy does) and callout timeouts (Envoy's 504 "upstream request timeout").
   * Needs a started plugin.
   */
  advanceTime(ms: number): void {
    if (!(ms >= 0)) throw new Error(`advanceTime(${ms}): a non-negative number of milliseconds`);
    this.running();
    const target = this.clock.elapsedMs + ms;
    for (;;) {
      // The earliest event of any worker: its tick, or one of its callouts timing out.
      let next: { at: number; worker: PluginVm; call: HttpCallRecord | null } | null = null;
      for (const worker of this.vms) {
        const tickAt = worker.tickDueMs;
        if (tickAt !== undefined && tickAt <= target && (next === null || tickAt < next.at)) next = { at: tickAt, worker, call: null };
        const call = worker.vm.httpCalls
          .filter((c) => c.pending && c.dueAtMs !== null && c.dueAtMs <= target)
          .sort((a, b) => a.dueAtMs! - b.dueAtMs! || a.token - b.token)[0];
        if (call && (next === null || call.dueAtMs! < next.at)) next = { at: call.dueAtMs!, worker, call };
      }
      if (next === null) break;
      this.clock.advance(Math.max(0, next.at - this.clock.elapsedMs));
      if (next.call === null) next.worker.fireTick(this.clock.elapsedMs);
      else answerHttpCall(next.worker, next.call, TIMEOUT_RESPONSE, "timeout");
    }
    this.clock.advance(Math.max(0, target - this.clock.elapsedMs));
  }

  /** Sets the wall clock (ms since the epoch, or ns as a bigint); fires no timers. Any time. */
  setTime(time: TimeInput): void {
    this.clock.set(time);
  }

  /** The wall-clock time the plugin sees, in ns. Any time. */
  now(): bigint {
    return this.clock.realtimeNs();
  }

  // ---- HTTP callouts -----------------------------------------------------------------------

  /** Calls waiting for an answer, oldest first (by worker). Any time. */
  pendingHttpCalls(): PendingHttpCall[] {
    const elapsed = this.clock.elapsedMs;
    return this.vms.flatMap((w, worker) =>
      w.vm.httpCalls
      .filter((c) => c.pending)
      .map((c) => ({
        worker,
        token: c.token,
        upstream: c.upstream,
        headers: c.headers,
        body: c.body,
        bodyBytes: c.bodyBytes,
        trailers: c.trailers,
        timeoutMs: c.timeoutMs,
        contextId: c.contextId,
        timesOutInMs: c.dueAtMs === null ? null : Math.max(0, c.dueAtMs - elapsed),
      })),
    );
  }

  /**
   * Answers a pending http_call on the root context, as Envoy does; null is a failed call (see
   * failHttpCall). Returns whether the plugin was called (false once the VM failed or the
   * plugin was deleted). Throws for a token that is not pending. Tokens count per VM: with
   * several workers, name the `worker` whose call it is when two have the same token pending.
   */
  respondToHttpCall(token: number, response: HttpCallResponse | null, worker?: number): boolean {
    const target = this.callOwner(token, worker, (w) => w.vm.httpCalls.some((c) => c.token === token && c.pending));
    return answerHttpCall(target, pendingCall(target, token), response, response === null ? "reset" : "response");
  }

  /**
   * Fails a pending call as a reset: on_http_call_response(token, 0, 0, 0) with proxy_get_status
   * answering 11 (BrokenConnection) "reset". Throws for a token that is not pending.
   */
  failHttpCall(token: number, worker?: number): boolean {
    return this.respondToHttpCall(token, null, worker);
  }

  /**
   * Times a pending call out now, as Envoy's router does: the plugin gets a 504 response with
   * body "upstream request timeout" (not a failure). Throws for a token that is not pending.
   */
  timeoutHttpCall(token: number, worker?: number): boolean {
    const target = this.callOwner(token, worker, (w) => w.vm.httpCalls.some((c) => c.token === token && c.pending));
    return answerHttpCall(target, pendingCall(target, token), TIMEOUT_RESPONSE, "timeout");
  }

  // ---- gRPC callouts -----------------------------------------------------------------------

  /** Open gRPC calls and streams (those Envoy still tracks), oldest first (by worker). Any time. */
  grpcCalls(): GrpcCallInfo[] {
    return this.vms.flatMap((w, worker) => [...w.vm.grpcCallouts.values()].map((c) => ({
      worker,
      token: c.token,
      kind: c.kind,
      upstream: c.service,
      serviceName: c.serviceName,
      method: c.method,
      initialMetadata: c.metadata,
      messages: [...c.messages],
      timeoutMs: c.timeoutMs,
      contextId: c.contextId,
      localClosed: c.localClosed,
      remoteClosed: c.remoteClosed,
    })));
  }

  /**
   * A unary call succeeds: on_grpc_receive(token, size) with GRPC_RECEIVE_BUFFER readable, and the
   * call is over. Returns false if the plugin had cancelled or closed it (Envoy drops it).
   */
  respondToGrpcCall(token: number, message: string | Uint8Array, worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "message", message: toBytes(message) }, "call");
  }

  /** A unary call fails: on_grpc_close(token, status), proxy_get_status giving (status, message). */
  failGrpcCall(token: number, status: number, message = "", worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "close", status, message }, "call");
  }

  /** Stream: on_grpc_receive_initial_metadata(token, n) with map 4 readable. */
  receiveGrpcInitialMetadata(token: number, metadata: Header[], worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "initial_metadata", metadata }, "stream");
  }

  /** Stream: on_grpc_receive(token, size) with GRPC_RECEIVE_BUFFER readable. */
  receiveGrpcMessage(token: number, message: string | Uint8Array, worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "message", message: toBytes(message) }, "stream");
  }

  /** Stream: on_grpc_receive_trailing_metadata(token, n) with map 5 readable. */
  receiveGrpcTrailingMetadata(token: number, metadata: Header[], worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "trailing_metadata", metadata }, "stream");
  }

  /**
   * Stream: the remote side closes with a gRPC status: on_grpc_close(token, status). Nothing more
   * is delivered on it afterwards.
   */
  closeGrpcStream(token: number, status: number, message = "", worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "close", status, message }, "stream");
  }

  // ---- Shared state, metrics, foreign functions --------------------------------------------

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

  // ---- Shutdown ----------------------------------------------------------------------------

  /**
   * Shuts the root down as Envoy does (cpp-host startShutdown): on_done(root); true -> on_delete
   * now; false -> the plugin must call proxy_done (from a later callback: a tick, a callout answer),
   * after which on_delete runs. Needs a started plugin; no new streams afterwards.
   */
  shutdown(): ShutdownResult {
    this.running();
    const before = this.logs.length;
    for (const worker of this.vms) worker.shutdown();
    return {
      done: this.vms.every((w) => w.doneAnswer ?? true),
      deleted: this.state === "deleted",
      logs: this.logs.slice(before),
    };
  }

  // ---- Internals ---------------------------------------------------------------------------

  private get vmId(): string {
    return this.options.vmId ?? "";
  }

  private get vms(): PluginVm[] {
    return this.fleet?.vms ?? [];
  }

  private streamSettings(properties?: Record<string, PropertyValue>): StreamSettings {
    return {
      failOpen: this.policy?.failOpen === true,
      properties: this.mergedProperties(properties),
      connectionId: this.nextConnectionId++,
      bufferLimitBytes: this.options.bufferLimitBytes,
    };
  }

  private mergedProperties(properties?: Record<string, PropertyValue>): ReadonlyMap<string, PropertyValue> {
    if (this.options.properties === undefined && properties === undefined) return NO_PROPERTIES;
    return new Map([...encodeProperties(this.options.properties), ...encodeProperties(properties)]);
  }

  /** Throws unless the plugin started; returns its workers. */
  private running(): Workers {
    const start = this.start();
    if (!start.ok || !this.fleet) {
      throw new Error(`the plugin did not start (${start.error}); Envoy would have rejected this configuration`);
    }
    return this.fleet;
  }

  /** The worker for new work (a stream or connection); throws after shutdown. */
  private pick(worker: number | undefined): PluginVm {
    const target = this.running().pick(worker, monotonicMs(this.clock));
    if (target.state !== "running") throw new Error(`the plugin was shut down (${target.state})`);
    return target;
  }

  /**
   * The worker a callout answer goes to: `worker` when given, else the only worker whose VM
   * `has` the token; with none, the first (whose lookup then reports the token unknown).
   */
  private callOwner(token: number, worker: number | undefined, has: (w: PluginVm) => boolean): PluginVm {
    const vms = this.running().vms;
    if (worker !== undefined) {
      if (!vms[worker]) throw new Error(`no worker ${worker}: the plugin runs ${vms.length} worker(s)`);
      return vms[worker];
    }
    const owners = vms.filter(has);
    if (owners.length > 1) {
      throw new Error(`token ${token} is open on workers ${owners.map((w) => vms.indexOf(w)).join(" and ")}: pass the worker`);
    }
    return owners[0] ?? vms[0];
  }

  private grpcOwner(token: number, worker: number | undefined): PluginVm {
    return this.callOwner(token, worker, (w) => w.vm.grpcCallouts.has(token));
  }

  /** Returns the error Envoy would report, or null when the plugin is running. */
  private load(): string | null {
    const level = LOG_LEVELS.indexOf(this.options.logLevel ?? "info");
    const logError = (message: string) => {
      if (level <= 4) this.logs.push({ level: "error", message });
      return message;
    };
    let bytes: Uint8Array;
    try {
      bytes = typeof this.wasm === "string" ? readFileSync(this.wasm) : this.wasm;
    } catch (e) {
      return logError(`Failed to read Wasm file: ${(e as Error).message}`);
    }
    const check = checkModule(bytes);
    if (!check.ok) {
      check.problems.forEach(logError);
      return check.problems[0];
    }
    const identity: PluginIdentity = {
      name: this.options.name ?? "",
      rootId: this.options.rootId ?? "",
      vmId: this.vmId,
      configuration: toBytes(this.options.configuration ?? ""),
      properties: encodeProperties(this.options.properties),
    };
    const policy = failurePolicy(this.options);
    if (typeof policy === "string") return logError(policy);
    this.policy = policy;
    const concurrency = this.options.concurrency;
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
      return logError(`bad concurrency ${concurrency}: a whole number of worker threads, at least 1`);
    }
    const deadlineMs = this.options.callbackDeadlineMs ?? defaultCallbackDeadlineMs();
    if (!(Number.isInteger(deadlineMs) && deadlineMs >= 0)) return logError(`bad callbackDeadlineMs ${deadlineMs}: whole milliseconds, 0 for none`);
    const debugInfo = ModuleDebugInfo.load(bytes, {
      wasmPath: typeof this.wasm === "string" ? this.wasm : undefined,
      sourceMapPath: this.options.sourceMap,
    });
    // The map's absolute URL lets a debugger (node --inspect) show the source; no code moves.
    const compiled = debugInfo.sourceMapUrl ? withSourceMappingUrl(withoutSourceMappingUrl(bytes), debugInfo.sourceMapUrl) : bytes;
    this.fleet = new Workers(
      {
        module: new WebAssembly.Module(compiled as Uint8Array<ArrayBuffer>),
        parsed: parseModule(bytes),
        abi: check.abiVersion as AbiVersion,
        identity,
        vmConfiguration: toBytes(this.options.vmConfiguration ?? ""),
        logLevel: level < 0 ? 2 : level,
        environment: this.options.environment ?? {},
        clusters: this.options.clusters,
        clock: this.clock,
        foreign: this.foreign,
        callbackDeadlineMs: deadlineMs,
        debugInfo,
      },
      policy,
      this.logs,
    );
    return this.fleet.start(concurrency);
  }
}

function pagesOf(worker: PluginVm): number {
  return worker.vm.memory ? worker.vm.memory.size / 65536 : 0;
}

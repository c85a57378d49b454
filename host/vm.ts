// One Wasm VM as cpp-host runs it: instantiate, start (_initialize + main/__main_void, or
// _start) with only logging and WASI allowed, then call callbacks through a single wrapper that
// turns any trap into a failed VM (FailState::RuntimeError) after which nothing is called again.

import { LOG_LEVELS } from "./abi/enums.js";
import type { AbiVersion } from "./abi/signatures.js";
import { HostContext, type HttpCallRecord, type PluginIdentity } from "./context.js";
import { WasmResult } from "./abi/enums.js";
import { buildImports } from "./imports/index.js";
import { ModuleMemory } from "./memory.js";
import type { ParsedModule } from "./wasm-binary.js";
import { VmCounters } from "./vm-counters.js";
import { HostClock } from "./clock.js";
import { callbackWatch } from "./callback-watch.js";
import { callWithDeadline, DeadlineExceeded, enterGuardedCallback, guardDeadlineMs } from "./deadline.js";
import type { ModuleDebugInfo } from "./debug/trap-location.js";

import type { LogEntry } from "./results.js";
export type { LogEntry };

/** Thrown by a host function to trap the calling module, like V8::trap() in cpp-host. */
export class HostTrap extends Error {}

export interface VmConfig {
  abi: AbiVersion;
  vmId: string;
  vmConfiguration: Uint8Array;
  logLevel: number;
  environment: Record<string, string>;
  /** Upstream clusters http_call/grpc_* may name; undefined accepts any non-empty name. */
  clusters?: string[];
  /** The plugin's name (PluginOptions.name), for a callback watch (callback-watch.ts). */
  pluginName?: string;
  /** Wall and monotonic time, and the virtual timeline timers run on. */
  clock?: HostClock;
  /** Longest a callback may run (ms of real time) before the VM fails; undefined or 0 = no limit. */
  callbackDeadlineMs?: number;
  /** Names and source map: a trap's failure names the function and source line of each frame. */
  debugInfo?: ModuleDebugInfo;
  /** Called once when the VM fails, with the failure and the critical message the failing callback logged (an abort's). */
  onFailure?: (failure: string, critical: string | null) => void;
}

/** What a foreign function registered by a test returns: output bytes (OK), or a status. */
export type ForeignFunctionResult = Uint8Array | string | number | void | undefined;
export type ForeignFunction = (args: Uint8Array) => ForeignFunctionResult;

/** The last messages a gRPC stream's record keeps: a plugin may send on one stream for as long as the proxy runs. */
export const GRPC_MESSAGES_KEPT = 64;

export interface GrpcCallout {
  token: number;
  kind: "call" | "stream";
  service: string;
  serviceName: string;
  method: string;
  metadata: [string, string][];
  /** Messages the plugin sent, oldest first: the unary request, or the last GRPC_MESSAGES_KEPT grpc_send's. */
  messages: Uint8Array[];
  /** Every message the plugin sent on it, counted (including those `messages` no longer holds). */
  messagesSent: number;
  timeoutMs: number;
  /** Unary call with a timeout: when the async client's router gives up (virtual ms), else null. */
  dueAtMs: number | null;
  /** The context that made the call (the effective context at the time). */
  contextId: number;
  /** The root whose request it is (cpp-host runs callouts on root_context()): deleting it cancels the call. */
  rootId: number;
  /** Stream only: the plugin called grpc_close (half close). */
  localClosed: boolean;
  /** Stream only: the remote side closed (on_grpc_close delivered). */
  remoteClosed: boolean;
}

type ExportedFunction = (...args: unknown[]) => unknown;

/** HTTP and gRPC callouts any VM in this thread made so far: a consumer compares it to see whether new calls need a look. */
let calloutsMade = 0;
export const calloutsSoFar = (): number => calloutsMade;

/** Work any VM in this thread posted so far (queue notifications, root done): it may move other streams than the one whose operation posted it. */
let postedSoFar = 0;
export const workPostedSoFar = (): number => postedSoFar;

/** VMs with work posted to their dispatcher; run after the current outside operation. */
const withPosted = new Set<Vm>();

/** Runs what every VM has posted (on_queue_ready of other VMs included), like the dispatchers would. */
export function flushPosted(): void {
  for (let guard = 0; withPosted.size > 0 && guard < 10_000; guard++) {
    const vm = withPosted.values().next().value as Vm;
    withPosted.delete(vm);
    vm.runPosted();
  }
}

const WASI = ["wasi_snapshot_preview1", "wasi_unstable"];
const wasi = (...names: string[]) => WASI.flatMap((m) => names.map((n) => `${m}.${n}`));

/** wasm.cc startVm(): the only hostcalls allowed in _initialize/main/_start. */
const START_ALLOWED = new Set([
  "env.emscripten_notify_memory_growth",
  "env.proxy_log",
  ...wasi(
    "fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get", "clock_time_get",
    "clock_res_get", "random_get", "poll_oneoff", "fd_fdstat_get", "fd_fdstat_set_flags", "fd_advise",
    "fd_allocate", "fd_datasync", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
    "fd_filestat_set_times", "fd_pread", "fd_prestat_dir_name", "fd_prestat_get", "fd_pwrite", "fd_readdir",
    "fd_renumber", "fd_sync", "fd_tell", "path_create_directory", "path_filestat_get",
    "path_filestat_set_times", "path_link", "path_readlink", "path_remove_directory", "path_rename",
    "path_symlink", "path_unlink_file", "sock_accept", "sock_recv", "sock_send", "sock_shutdown",
  ),
]);

/**
 * What a start function may call: cpp-host runs it inside link() (the runtime's instantiate),
 * when no context exists, and every other host function dereferences that missing context
 * (exports.cc contextOrEffectiveContext()), which crashes Envoy.
 */
const NO_CONTEXT = new Set([
  "env.pthread_equal",
  "env.emscripten_notify_memory_growth",
  ...wasi(
    "path_open", "fd_prestat_get", "fd_prestat_dir_name", "fd_filestat_get", "fd_read", "path_filestat_get",
    "fd_fdstat_set_flags", "args_get", "fd_advise", "fd_allocate", "fd_datasync", "fd_fdstat_set_rights",
    "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread", "fd_renumber", "fd_sync", "path_create_directory",
    "path_filestat_set_times", "path_link", "path_remove_directory", "path_rename", "path_symlink",
    "path_unlink_file", "sock_shutdown", "sched_yield",
  ),
]);

const CALLOUT_IMPORTS = ["proxy_http_call", "proxy_grpc_call", "proxy_grpc_stream"];

/** wasm.h allocMemory(): the only hostcalls allowed inside malloc. */
const ALLOC_ALLOWED = new Set(["env.proxy_log", ...wasi("fd_write", "clock_time_get", "poll_oneoff")]);

export class Vm {
  memory!: ModuleMemory;
  failure: string | null = null;
  /** The last critical message of the outermost callback running: an abort's reason, for onFailure. */
  private lastCritical: string | null = null;
  readonly contexts = new Map<number, HostContext>();
  readonly vmContext: HostContext;
  current: HostContext;
  effective: HostContext;
  /** Set by proxy_send_local_response; forces the callback's result to "stop". */
  stopNextIteration = false;
  /** Where log entries of the current operation go (plugin logs or one stream's logs). */
  logSink: LogEntry[] = [];
  readonly counters = new VmCounters();
  /** Root context id -> tick period set through proxy_set_tick_period_milliseconds. */
  readonly tickPeriods = new Map<number, number>();
  /**
   * HTTP calls waiting for an answer, by token (in the order they were made). An answer, failure,
   * timeout or cancel drops the call: a long-running proxy answers calls forever.
   */
  readonly pendingHttpCalls = new Map<number, HttpCallRecord>();
  readonly grpcCallouts = new Map<number, GrpcCallout>();
  /** Root context id -> virtual time (ms) of the next tick. */
  readonly tickDue = new Map<number, number>();
  /** Roots whose on_done answered false, waiting for proxy_done. */
  readonly pendingDone = new Set<number>();
  /** Roots whose on_delete ran at shutdown. */
  readonly deletedRoots = new Set<number>();
  /** Foreign functions a test registered; they take precedence over Envoy's built-ins. */
  readonly foreignFunctions = new Map<string, ForeignFunction>();
  readonly clock: HostClock;
  /** Where posted work logs when no operation of this VM's plugin is running. */
  homeLogSink: LogEntry[] | null = null;
  /** Also gets what goes to homeLogSink: a plugin's log of every worker VM's root-level work. */
  echoLogSink: LogEntry[] | null = null;
  /** The module's exported functions by name. */
  private readonly functions = new Map<string, ExportedFunction>();
  /** allocMemory(): malloc, else proxy_on_memory_allocate. */
  private allocator = "malloc";
  private restriction: ReadonlySet<string> | null = null;
  private nextContextId = 1;
  private depth = 0;
  private readonly posted: (() => void)[] = [];

  constructor(readonly config: VmConfig) {
    this.vmContext = new HostContext(0, "vm", null, null);
    this.contexts.set(0, this.vmContext);
    this.current = this.effective = this.vmContext;
    this.clock = config.clock ?? new HostClock();
  }

  /** Links and instantiates; returns an error message or null. */
  instantiate(module: WebAssembly.Module, parsed: ParsedModule): string | null {
    let importedMemory: WebAssembly.Memory | null = null;
    const imports = buildImports(this, parsed, (m) => (importedMemory = m));
    const callouts = parsed.imports.filter((i) => i.module === "env" && CALLOUT_IMPORTS.includes(i.name));
    if (this.config.clusters === undefined && callouts.length > 0) {
      // This host's default is kinder than Envoy, which refuses a cluster it does not know.
      this.log(
        3,
        `host: no clusters given, so ${callouts.map((i) => i.name).join(", ")} accept${callouts.length === 1 ? "s" : ""} any cluster name; ` +
          "Envoy answers BadArgument (gRPC: ParseFailure) for a cluster it does not know: list them (clusters option, simulate --cluster)",
      );
    }
    let instance: WebAssembly.Instance;
    // A start section runs here, as in cpp-host's link().
    this.restriction = NO_CONTEXT;
    try {
      instance = new WebAssembly.Instance(module, imports);
    } catch (e) {
      return `Failed to create new Wasm instance: ${(e as Error).message}`;
    } finally {
      this.restriction = null;
    }
    let exported: WebAssembly.Memory | undefined;
    for (const [name, value] of Object.entries(instance.exports)) {
      if (typeof value === "function") this.functions.set(name, value as ExportedFunction);
      else if (exported === undefined && value instanceof WebAssembly.Memory) exported = value;
    }
    if (!this.has("malloc")) this.allocator = "proxy_on_memory_allocate";
    const memory = exported ?? importedMemory;
    if (!memory) return "Wasm module has no memory";
    this.memory = new ModuleMemory(memory);
    return null;
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  /** startVm(): runs the reactor or command initialisation under restriction. */
  start(): boolean {
    this.restriction = START_ALLOWED;
    try {
      if (this.has("_initialize")) {
        this.call("_initialize", this.vmContext);
        if (this.has("main")) this.call("main", this.vmContext, 0, 0);
        else if (this.has("__main_void")) this.call("__main_void", this.vmContext);
      } else if (this.has("_start")) {
        this.call("_start", this.vmContext);
      }
    } finally {
      this.restriction = null;
    }
    return this.failure === null;
  }

  newContext(kind: "root" | "stream", plugin: PluginIdentity, parent: HostContext | null): HostContext {
    const ctx = new HostContext(this.nextContextId++, kind, plugin, parent);
    this.contexts.set(ctx.id, ctx);
    return ctx;
  }

  /**
   * Calls an export with `ctx` as current and effective context (SaveRestoreContext), with the
   * arguments its signature takes (module.ts checked it; every callback has at most five).
   * Returns the i32 result (0 for void), or null when the VM has failed or the call trapped.
   */
  call(name: string, ctx: HostContext, a?: number, b?: number, c?: number, d?: number, e?: number): number | null {
    if (this.failure !== null) return null;
    const fn = this.functions.get(name)!;
    const savedCurrent = this.current;
    const savedEffective = this.effective;
    const savedRestriction = this.restriction;
    const deadlineMs = this.depth === 0 ? this.config.callbackDeadlineMs : undefined;
    if (this.depth === 0) this.lastCritical = null;
    // Under a guard (one watchdog for the whole operation) the callback is only noted.
    const guarded = deadlineMs ? guardDeadlineMs() !== 0 : false;
    const watch = this.depth === 0 ? callbackWatch : null;
    watch?.enter(this.config.pluginName ?? "", name);
    this.current = this.effective = ctx;
    this.depth++;
    try {
      let result: unknown;
      if (!deadlineMs) result = fn(a, b, c, d, e);
      else if (guarded) {
        enterGuardedCallback(this, name);
        result = fn(a, b, c, d, e);
      } else result = callWithDeadline(deadlineMs, fn, a, b, c, d, e);
      return typeof result === "number" ? result : 0;
    } catch (error) {
      if (error instanceof DeadlineExceeded) {
        // The stop skipped every finally inside the callback: undo what nested calls left set.
        this.depth = 1;
        this.restriction = savedRestriction;
        this.fail(`Function: ${name} failed: it ran for ${error.elapsedMs} ms, past the callback deadline of ${deadlineMs} ms, and was stopped`);
      } else {
        this.fail(`Function: ${name} failed: ${describeTrap(error)}${this.config.debugInfo?.describe(error) ?? ""}`);
      }
      return null;
    } finally {
      this.depth--;
      this.current = savedCurrent;
      this.effective = savedEffective;
      watch?.leave();
    }
  }

  /**
   * A guard stopped this VM's callback `name` (deadline.ts runGuarded): every `finally` between
   * the callback and the guard was skipped, so the call stack's state is reset here, and the VM fails.
   */
  stoppedByGuard(name: string, elapsedMs: number, deadlineMs: number, sink?: LogEntry[]): void {
    this.resetAfterStop();
    if (sink) this.logSink = sink;
    this.fail(`Function: ${name} failed: it ran for ${elapsedMs} ms, past the callback deadline of ${deadlineMs} ms, and was stopped`);
    if (this.homeLogSink) this.logSink = this.homeLogSink;
  }

  /** What an operation or call sets and its skipped `finally` would have undone: back to no operation. */
  resetAfterStop(): void {
    this.depth = 0;
    this.current = this.effective = this.vmContext;
    this.restriction = null;
    this.stopNextIteration = false;
    this.operationRunning = false;
    if (this.homeLogSink) this.logSink = this.homeLogSink;
    if (this.posted.length > 0) withPosted.add(this);
  }

  /** Work Envoy posts to the dispatcher (e.g. on_queue_ready): it runs after the current operation. */
  post(task: () => void): void {
    postedSoFar++;
    this.posted.push(task);
    withPosted.add(this);
  }

  /** Called by the plugin and streams when an outside operation (a request phase, a tick) ends. */
  runPosted(): void {
    if (this.depth !== 0 || this.posted.length === 0) return;
    const saved = this.logSink;
    if (this.homeLogSink && !this.operationRunning) this.logSink = this.homeLogSink;
    try {
      while (this.posted.length > 0 && this.depth === 0) this.posted.shift()!();
    } finally {
      this.logSink = saved;
    }
    if (this.posted.length === 0) withPosted.delete(this);
  }

  /** True while the plugin or one of its streams runs an outside operation on this VM. */
  operationRunning = false;

  /**
   * One outside operation (a request phase, a tick, a callout answer): log entries go to `sink`,
   * work posted meanwhile runs after `fn`, and once the outermost operation ends, every VM's.
   */
  runOperation(sink: LogEntry[], fn: () => void): void {
    const savedSink = this.logSink;
    const savedRunning = this.operationRunning;
    this.logSink = sink;
    this.operationRunning = true;
    try {
      fn();
      this.runPosted();
    } finally {
      this.logSink = savedSink;
      this.operationRunning = savedRunning;
    }
    if (!savedRunning) flushPosted();
  }

  /** Wasm::setTickPeriod(): re-arms the root's timer at now + period; 0 stops it. */
  setTickPeriod(rootId: number, periodMs: number): void {
    this.tickPeriods.set(rootId, periodMs);
    if (periodMs > 0) this.tickDue.set(rootId, this.clock.elapsedMs + periodMs);
    else this.tickDue.delete(rootId);
  }

  knowsCluster(name: string): boolean {
    return name.length > 0 && (this.config.clusters === undefined || this.config.clusters.includes(name));
  }

  recordHttpCall(call: HttpCallRecord): void {
    this.pendingHttpCalls.set(call.token, call);
    // A stream's result lists its calls; the list goes with the stream.
    const caller = this.contexts.get(call.contextId);
    if (caller?.stream) {
      const { token, upstream, headers, body, trailers, timeoutMs } = call;
      caller.httpCalls.push({ token, upstream, headers, body, trailers, timeoutMs });
    }
    calloutsMade++;
  }

  /** Whether `token` was an HTTP call of this VM that is no longer pending. */
  httpCallEnded(token: number): boolean {
    return token >= 4 && token % 4 === 0 && token < this.counters.peek("httpCall") && !this.pendingHttpCalls.has(token);
  }

  recordGrpcCall(call: GrpcCallout): void {
    this.grpcCallouts.set(call.token, call);
    calloutsMade++;
  }

  /** wasm.cc done(): finishes a root that answered false to on_done; on_delete follows later. */
  rootDone(root: HostContext): number {
    if (!this.pendingDone.delete(root.id)) return WasmResult.NotFound;
    this.post(() => this.deleteRoot(root));
    return WasmResult.Ok;
  }

  /**
   * on_delete, then the root is destroyed: Envoy's Context::~Context cancels its HTTP and gRPC
   * calls and resets its gRPC streams, so none of them calls back (or times out) afterwards.
   */
  deleteRoot(root: HostContext): void {
    this.deletedRoots.add(root.id);
    if (this.has("proxy_on_delete")) this.call("proxy_on_delete", root, root.id);
    for (const [token, call] of this.pendingHttpCalls) if (call.rootId === root.id) this.pendingHttpCalls.delete(token);
    for (const [token, callout] of this.grpcCallouts) if (callout.rootId === root.id) this.grpcCallouts.delete(token);
  }

  checkAllowed(importName: string): void {
    if (this.restriction === null || this.restriction.has(importName)) return;
    if (this.restriction === NO_CONTEXT) {
      throw new HostTrap(
        `the module's start function called ${importName} during instantiation, before any context exists: ` +
          "Envoy's host function dereferences the missing context there and the proxy crashes " +
          "(cpp-host exports.cc contextOrEffectiveContext() in link()); move the call to _initialize or proxy_on_vm_start",
      );
    }
    throw new HostTrap("restricted_callback");
  }

  fail(message: string): void {
    if (this.failure !== null) return;
    this.failure = message;
    this.log(4, message);
    this.config.onFailure?.(message, this.lastCritical);
  }

  /** allocMemory(): malloc first, then proxy_on_memory_allocate; 0 or out of range is failure. */
  allocate(size: number): number | null {
    const saved = this.restriction;
    this.restriction = ALLOC_ALLOWED;
    let ptr: number | null;
    try {
      ptr = this.call(this.allocator, this.vmContext, size);
    } finally {
      this.restriction = saved;
    }
    if (ptr === null) return null;
    ptr >>>= 0;
    if (ptr === 0 || ptr + size > this.memory.size) return null;
    return ptr;
  }

  /** copyToPointerSize(): empty data is written as ptr=0,size=0 without allocating. */
  copyOut(data: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (data.length > 0) {
      const p = this.allocate(data.length);
      if (p === null || !this.memory.write(p, data)) return false;
      ptr = p;
    }
    return this.memory.writeU32(ptrPtr, ptr) && this.memory.writeU32(sizePtr, data.length);
  }

  /** Whether a message at `level` is kept: callers may skip building one that is not. */
  keepsLogLevel(level: number): boolean {
    return level >= this.config.logLevel;
  }

  /** Records a message if Envoy's wasm logger would print it at the configured level. */
  log(level: number, message: string): void {
    if (!this.keepsLogLevel(level)) return;
    if (level === 5) this.lastCritical = message;
    const entry = { level: LOG_LEVELS[level], message };
    this.logSink.push(entry);
    if (this.echoLogSink !== null && this.logSink === this.homeLogSink) this.echoLogSink.push(entry);
  }
}

function describeTrap(e: unknown): string {
  if (e instanceof HostTrap) return e.message;
  if (e instanceof WebAssembly.RuntimeError) return `Uncaught RuntimeError: ${e.message}`;
  if (e instanceof Error) return `Uncaught ${e.name}: ${e.message}`;
  return String(e);
}

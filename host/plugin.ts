// A plugin started as Envoy starts one (cpp-host wasm.cc createWasm/canary, context.cc
// onStart/onConfigure): load and check the module, instantiate, run _initialize, then for the
// root context on_context_create(R, 0) -> on_vm_start(R, vm_config_size) ->
// on_configure(R, plugin_config_size). false from either fails the start.
//
// Everything the plugin does afterwards is driven from here: HTTP streams, TCP connections,
// answers to its callouts, the clock (ticks and callout timeouts), shared state, shutdown.
// Nothing happens on its own: time only moves in advanceTime(), answers only come when a test
// gives them. Each public method says when it may be called.

import { readFileSync } from "node:fs";
import { LOG_LEVELS, WasmResult, type LogLevelName } from "./abi/enums.js";
import { toBytes } from "./abi/pairs.js";
import type { AbiVersion } from "./abi/signatures.js";
import { deliverGrpc, deliverHttpCall, TIMEOUT_RESPONSE, type GrpcEvent, type HttpCallResponse } from "./callouts.js";
import { HostClock, type TimeInput } from "./clock.js";
import type { HostContext, HttpCallRecord, PluginIdentity } from "./context.js";
import type { Header, HeaderInput } from "./header-map.js";
import { DEFAULT_BUFFER_LIMIT_BYTES, HttpStream } from "./http-stream.js";
import { metricsOf } from "./imports/metrics.js";
import { checkModule, type ModuleCheck } from "./module.js";
import { encodeProperties, type PropertyValue } from "./properties.js";
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
import { TcpConnection, type TcpResult } from "./tcp-connection.js";
import { decodeText } from "./text.js";
import { flushPosted, Vm, type ForeignFunction } from "./vm.js";
import { parseModule } from "./wasm-binary.js";

export type { HttpCallResponse };

export interface PluginOptions {
  /** PluginConfig.root_id (the plugin_root_id property). */
  rootId?: string;
  /** VmConfig.vm_id: plugins with the same vm_id share shared data and queues. */
  vmId?: string;
  /** PluginConfig.name (the plugin_name property). */
  name?: string;
  /** PluginConfig.configuration, read in on_configure (PLUGIN_CONFIGURATION). */
  configuration?: string | Uint8Array;
  /** VmConfig.configuration, read in on_vm_start (VM_CONFIGURATION). */
  vmConfiguration?: string | Uint8Array;
  /**
   * Attributes by dotted path, e.g. "source.address", "node.metadata" (a map), "xds.cluster_name".
   * They override the host's defaults for a local connection; a stream's own attributes
   * (request.*, response.*) come from its headers.
   */
  properties?: Record<string, PropertyValue>;
  /** PluginConfig.fail_open: after a trap streams pass untouched instead of getting a 503. */
  failOpen?: boolean;
  /** The wasm logger's level: messages below it are dropped; proxy_get_log_level answers it. */
  logLevel?: LogLevelName;
  /** Clusters that http_call/grpc_* may target (others: BAD_ARGUMENT / PARSE_FAILURE); by default any non-empty name. */
  clusters?: string[];
  /** The VM's environment variables (WASI environ_get). */
  environment?: Record<string, string>;
  /**
   * Wall-clock time the plugin sees at creation (a number is ms since the epoch, a bigint ns).
   * Set it for deterministic time; by default the real clock is used. Either way advanceTime()
   * moves it on.
   */
  now?: TimeInput;
  /**
   * Envoy's buffer limit for one stream (the listener's per_connection_buffer_limit_bytes, default
   * 1 MiB). A body a filter buffers (StopIterationAndBuffer, StopAllIterationAndBuffer) beyond it
   * gets Envoy's local reply: 413 for a request, 500 for a response (or a reset once the response
   * headers went downstream).
   */
  bufferLimitBytes?: number;
}

export interface StartResult {
  ok: boolean;
  error: string | null;
  logs: LogEntry[];
}

/** How a test answers one callout: a response, "fail" (a reset) or "timeout" (Envoy's 504). */
export type HttpCallAnswer = HttpCallResponse | "fail" | "timeout";

/** Header names and values are strings (UTF-8) or raw bytes (Uint8Array), as Envoy passes bytes on. */
export interface RequestSpec {
  requestHeaders?: HeaderInput[];
  requestBody?: (string | Uint8Array)[];
  requestTrailers?: HeaderInput[];
  responseHeaders?: HeaderInput[];
  responseBody?: (string | Uint8Array)[];
  responseTrailers?: HeaderInput[];
  properties?: Record<string, PropertyValue>;
  /**
   * Answers for the callouts this request makes, consumed in order: after each step of the
   * request, every pending call it made gets the next answer. Calls left without one stay pending.
   */
  httpCallResponses?: HttpCallAnswer[];
}

export interface TcpSpec {
  /** Client -> upstream chunks; the last one carries end_of_stream. */
  downstreamData?: (string | Uint8Array)[];
  /** Upstream -> client chunks after the client's; the last one carries end_of_stream (the upstream close). */
  upstreamData?: (string | Uint8Array)[];
  properties?: Record<string, PropertyValue>;
  /** Answers for the callouts the connection makes, as in RequestSpec. */
  httpCallResponses?: HttpCallAnswer[];
}

export interface MetricValue {
  name: string;
  type: "counter" | "gauge" | "histogram";
  value: bigint;
  samples: bigint[];
}

export interface PendingHttpCall {
  token: number;
  upstream: string;
  headers: Header[];
  body: string;
  bodyBytes: Uint8Array;
  trailers: Header[];
  timeoutMs: number;
  /** The context that made the call (a stream id, or the root id). */
  contextId: number;
  /** Milliseconds of advanceTime() left before Envoy times the call out; null = no timeout. */
  timesOutInMs: number | null;
}

export interface GrpcCallInfo {
  token: number;
  kind: "call" | "stream";
  /** The cluster (or serialized GrpcService) the plugin named. */
  upstream: string;
  serviceName: string;
  method: string;
  initialMetadata: Header[];
  /** The request message (unary) or every message sent on the stream so far. */
  messages: Uint8Array[];
  timeoutMs: number;
  contextId: number;
  /** Stream: the plugin half-closed it with grpc_close. */
  localClosed: boolean;
  /** Stream: on_grpc_close was delivered. */
  remoteClosed: boolean;
}

export interface SharedDataValue {
  value: Uint8Array;
  /** The value as UTF-8. */
  text: string;
  cas: number;
}

export interface ShutdownResult {
  /** What on_done answered (true when the plugin has no on_done, or the VM failed). */
  done: boolean;
  /** on_delete ran: right away when on_done answered true, else after proxy_done. */
  deleted: boolean;
  logs: LogEntry[];
}

const NO_PROPERTIES: ReadonlyMap<string, PropertyValue> = new Map();

const DEFAULT_REQUEST_HEADERS: Header[] = [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "localhost"],
  [":scheme", "http"],
];

export class Plugin {
  /** Logs of root-level operations: start, ticks, callout answers, queue notifications, shutdown. */
  readonly logs: LogEntry[] = [];
  private startResult: StartResult | null = null;
  private vm: Vm | null = null;
  private root: HostContext | null = null;
  private readonly streams = new Set<HttpStream>();
  private readonly connections = new Set<TcpConnection>();
  private readonly clock: HostClock;
  private readonly foreign = new Map<string, ForeignFunction>();
  private nextConnectionId = 1;
  private readonly forgetStream = (stream: HttpStream) => this.streams.delete(stream);
  private shutdownState: "running" | "draining" | "deleted" = "running";
  private doneAnswer: boolean | null = null;

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

  /** True when the start failed or a trap failed the VM since. Any time. */
  get failed(): boolean {
    return (this.startResult !== null && !this.startResult.ok) || this.vm?.failure != null;
  }

  /** Why the VM failed (Envoy's message), or null. Any time. */
  get failure(): string | null {
    return this.startResult?.ok === false ? this.startResult.error : (this.vm?.failure ?? null);
  }

  /**
   * The size of the module's linear memory in 64 KiB pages (0 before a start that got as far as
   * instantiating). It only grows: a leak shows as growth across many requests. Any time.
   */
  get memoryPages(): number {
    return this.vm?.memory ? this.vm.memory.size / 65536 : 0;
  }

  /** The root context id (1 for the first plugin of a VM), or null before a successful start. */
  get rootContextId(): number | null {
    return this.root?.id ?? null;
  }

  /** "running", "draining" (on_done answered false, waiting for proxy_done) or "deleted". Any time. */
  get state(): "running" | "draining" | "deleted" {
    return this.shutdownState;
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

  /** A new HTTP stream to drive phase by phase. Needs a started plugin that was not shut down. */
  newHttpStream(properties?: Record<string, PropertyValue>): HttpStream {
    const { vm, root } = this.running(true);
    const stream = new HttpStream({
      vm,
      root,
      failOpen: this.options.failOpen === true,
      properties: this.mergedProperties(properties),
      connectionId: this.nextConnectionId++,
      bufferLimitBytes: this.options.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES,
      onFinished: this.forgetStream,
    });
    this.streams.add(stream);
    return stream;
  }

  /**
   * One whole stream; the upstream answers only if the whole request reached it. Callouts are
   * answered from `spec.httpCallResponses` in order. Needs a started plugin.
   */
  runHttpRequest(spec: RequestSpec = {}): RequestResult {
    const stream = this.newHttpStream(spec.properties);
    const answers = [...(spec.httpCallResponses ?? [])];
    const firstToken = this.vm!.httpCalls.length;
    const answer = () => this.answerFromQueue(answers, firstToken, stream.logs);
    const requestHeaders = withDefaults(spec.requestHeaders ?? [], DEFAULT_REQUEST_HEADERS);
    sendMessage(
      requestHeaders,
      spec.requestBody ?? [],
      spec.requestTrailers,
      (h, eos) => stream.sendRequestHeaders(h, eos),
      (b, eos) => stream.sendRequestBody(b, eos),
      (t) => stream.sendRequestTrailers(t),
      answer,
    );
    if (stream.requestComplete) {
      const responseHeaders = withDefaults(spec.responseHeaders ?? [], [[":status", "200"]]);
      sendMessage(
        responseHeaders,
        spec.responseBody ?? [],
        spec.responseTrailers,
        (h, eos) => stream.sendResponseHeaders(h, eos),
        (b, eos) => stream.sendResponseBody(b, eos),
        (t) => stream.sendResponseTrailers(t),
        answer,
      );
    }
    stream.complete();
    return stream.result();
  }

  /** A new TCP connection (on_context_create, on_new_connection) to drive step by step. Needs a started plugin. */
  newTcpConnection(properties?: Record<string, PropertyValue>): TcpConnection {
    const { vm, root } = this.running(true);
    const connection = new TcpConnection({
      vm,
      root,
      failOpen: this.options.failOpen === true,
      properties: this.mergedProperties(properties),
      connectionId: this.nextConnectionId++,
      onFinished: (c) => this.connections.delete(c),
    });
    this.connections.add(connection);
    return connection;
  }

  /**
   * One whole connection: the client's chunks (end_of_stream on the last), the upstream's chunks
   * (end_of_stream on the last, i.e. the upstream close), then the client closes. Needs a started plugin.
   */
  runTcpConnection(spec: TcpSpec = {}): TcpResult {
    const connection = this.newTcpConnection(spec.properties);
    const answers = [...(spec.httpCallResponses ?? [])];
    const firstToken = this.vm!.httpCalls.length;
    const answer = () => this.answerFromQueue(answers, firstToken, connection.logs);
    answer();
    const down = spec.downstreamData ?? [];
    down.forEach((chunk, i) => {
      connection.sendDownstreamData(chunk, i === down.length - 1);
      answer();
    });
    const up = spec.upstreamData ?? [];
    if (up.length === 0) connection.closeUpstream();
    up.forEach((chunk, i) => {
      connection.sendUpstreamData(chunk, i === up.length - 1);
      answer();
    });
    connection.closeDownstream("remote");
    return connection.result();
  }

  // ---- Time --------------------------------------------------------------------------------

  /**
   * Fires proxy_on_tick on the root now if the plugin set a tick period, and re-arms the timer
   * from the current time. Returns whether it ran. Needs a started plugin.
   */
  tick(): boolean {
    const { vm, root } = this.running();
    if (!vm.tickPeriods.get(root.id)) return false;
    this.fireTick();
    return true;
  }

  /** The tick period the plugin set (0 = none). Any time. */
  get tickPeriodMs(): number {
    return this.vm && this.root ? (this.vm.tickPeriods.get(this.root.id) ?? 0) : 0;
  }

  /**
   * Moves the clock on by `ms`, firing what falls due in order: ticks (re-armed after each
   * on_tick, as Envoy does) and callout timeouts (Envoy's 504 "upstream request timeout").
   * Needs a started plugin.
   */
  advanceTime(ms: number): void {
    if (!(ms >= 0)) throw new Error(`advanceTime(${ms}): a non-negative number of milliseconds`);
    const { vm, root } = this.running();
    const target = this.clock.elapsedMs + ms;
    for (;;) {
      const tickAt = vm.tickPeriods.get(root.id) ? vm.tickDue.get(root.id) : undefined;
      const call = vm.httpCalls
        .filter((c) => c.pending && c.dueAtMs !== null && c.dueAtMs <= target)
        .sort((a, b) => a.dueAtMs! - b.dueAtMs! || a.token - b.token)[0];
      const callAt = call?.dueAtMs ?? Infinity;
      const next = Math.min(tickAt !== undefined && tickAt <= target ? tickAt : Infinity, callAt);
      if (next === Infinity) break;
      this.clock.advance(Math.max(0, next - this.clock.elapsedMs));
      if (tickAt !== undefined && tickAt <= callAt) this.fireTick();
      else this.deliverCall(call!, TIMEOUT_RESPONSE, "timeout");
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

  /** Calls waiting for an answer, oldest first. Any time. */
  pendingHttpCalls(): PendingHttpCall[] {
    const elapsed = this.clock.elapsedMs;
    return (this.vm?.httpCalls ?? [])
      .filter((c) => c.pending)
      .map((c) => ({
        token: c.token,
        upstream: c.upstream,
        headers: c.headers,
        body: c.body,
        bodyBytes: c.bodyBytes,
        trailers: c.trailers,
        timeoutMs: c.timeoutMs,
        contextId: c.contextId,
        timesOutInMs: c.dueAtMs === null ? null : Math.max(0, c.dueAtMs - elapsed),
      }));
  }

  /**
   * Answers a pending http_call on the root context, as Envoy does; null is a failed call (see
   * failHttpCall). Returns whether the plugin was called (false once the VM failed or the
   * plugin was deleted). Throws for a token that is not pending.
   */
  respondToHttpCall(token: number, response: HttpCallResponse | null): boolean {
    return this.deliverCall(this.pendingCall(token), response, response === null ? "reset" : "response");
  }

  /**
   * Fails a pending call as a reset: on_http_call_response(token, 0, 0, 0) with proxy_get_status
   * answering 11 (BrokenConnection) "reset". Throws for a token that is not pending.
   */
  failHttpCall(token: number): boolean {
    return this.respondToHttpCall(token, null);
  }

  /**
   * Times a pending call out now, as Envoy's router does: the plugin gets a 504 response with
   * body "upstream request timeout" (not a failure). Throws for a token that is not pending.
   */
  timeoutHttpCall(token: number): boolean {
    return this.deliverCall(this.pendingCall(token), TIMEOUT_RESPONSE, "timeout");
  }

  // ---- gRPC callouts -----------------------------------------------------------------------

  /** Open gRPC calls and streams (those Envoy still tracks), oldest first. Any time. */
  grpcCalls(): GrpcCallInfo[] {
    return [...(this.vm?.grpcCallouts.values() ?? [])].map((c) => ({
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
    }));
  }

  /**
   * A unary call succeeds: on_grpc_receive(token, size) with GRPC_RECEIVE_BUFFER readable, and the
   * call is over. Returns false if the plugin had cancelled or closed it (Envoy drops it).
   */
  respondToGrpcCall(token: number, message: string | Uint8Array): boolean {
    return this.grpc(token, { kind: "message", message: toBytes(message) }, "call");
  }

  /** A unary call fails: on_grpc_close(token, status), proxy_get_status giving (status, message). */
  failGrpcCall(token: number, status: number, message = ""): boolean {
    return this.grpc(token, { kind: "close", status, message }, "call");
  }

  /** Stream: on_grpc_receive_initial_metadata(token, n) with map 4 readable. */
  receiveGrpcInitialMetadata(token: number, metadata: Header[]): boolean {
    return this.grpc(token, { kind: "initial_metadata", metadata }, "stream");
  }

  /** Stream: on_grpc_receive(token, size) with GRPC_RECEIVE_BUFFER readable. */
  receiveGrpcMessage(token: number, message: string | Uint8Array): boolean {
    return this.grpc(token, { kind: "message", message: toBytes(message) }, "stream");
  }

  /** Stream: on_grpc_receive_trailing_metadata(token, n) with map 5 readable. */
  receiveGrpcTrailingMetadata(token: number, metadata: Header[]): boolean {
    return this.grpc(token, { kind: "trailing_metadata", metadata }, "stream");
  }

  /**
   * Stream: the remote side closes with a gRPC status: on_grpc_close(token, status). Nothing more
   * is delivered on it afterwards.
   */
  closeGrpcStream(token: number, status: number, message = ""): boolean {
    return this.grpc(token, { kind: "close", status, message }, "stream");
  }

  // ---- Shared state, metrics, foreign functions --------------------------------------------

  /** The metrics the plugin defined, by name. Any time. */
  metrics(): MetricValue[] {
    if (!this.vm) return [];
    const kinds = ["counter", "gauge", "histogram"] as const;
    return [...metricsOf(this.vm).byName.values()].map((m) => ({ name: m.name, type: kinds[m.type], value: m.value, samples: [...m.samples] }));
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
    this.vm?.foreignFunctions.set(name, fn);
  }

  // ---- Shutdown ----------------------------------------------------------------------------

  /**
   * Shuts the root down as Envoy does (cpp-host startShutdown): on_done(root); true -> on_delete
   * now; false -> the plugin must call proxy_done (from a later callback: a tick, a callout answer),
   * after which on_delete runs. Needs a started plugin; no new streams afterwards.
   */
  shutdown(): ShutdownResult {
    const { vm, root } = this.running();
    const before = this.logs.length;
    if (this.shutdownState === "running") {
      this.asPluginOperation(() => {
        let done = true;
        if (vm.failure === null && vm.has("proxy_on_done")) done = vm.call("proxy_on_done", root, root.id) !== 0;
        if (vm.failure !== null) done = true;
        this.doneAnswer = done;
        if (done) {
          vm.deletedRoots.add(root.id);
          if (vm.failure === null && vm.has("proxy_on_delete")) vm.call("proxy_on_delete", root, root.id);
        } else {
          vm.pendingDone.add(root.id);
        }
      });
    }
    this.updateShutdownState();
    return {
      done: this.doneAnswer ?? true,
      deleted: this.shutdownState === "deleted",
      logs: this.logs.slice(before),
    };
  }

  // ---- Internals ---------------------------------------------------------------------------

  private get vmId(): string {
    return this.options.vmId ?? "";
  }

  private mergedProperties(properties?: Record<string, PropertyValue>): ReadonlyMap<string, PropertyValue> {
    if (this.options.properties === undefined && properties === undefined) return NO_PROPERTIES;
    return new Map([...encodeProperties(this.options.properties), ...encodeProperties(properties)]);
  }

  private updateShutdownState(): void {
    const vm = this.vm;
    const root = this.root;
    if (!vm || !root || this.shutdownState === "running" && !vm.pendingDone.has(root.id) && !vm.deletedRoots.has(root.id)) return;
    this.shutdownState = vm.deletedRoots.has(root.id) ? "deleted" : "draining";
  }

  private pendingCall(token: number): HttpCallRecord {
    const call = this.vm?.httpCalls.find((c) => c.token === token);
    if (!call) throw new Error(`no http_call with token ${token}`);
    if (!call.pending) throw new Error(`http_call ${token} was already answered (${call.outcome})`);
    return call;
  }

  private deliverCall(call: HttpCallRecord, response: HttpCallResponse | null, outcome: "response" | "reset" | "timeout", sink = this.logs): boolean {
    const { vm, root } = this.running();
    let delivered = false;
    this.asPluginOperation(() => {
      // Envoy's ~Context cancels the root's requests: nothing reaches a deleted root.
      if (this.shutdownState === "deleted") {
        call.pending = false;
        call.outcome = outcome;
        return;
      }
      delivered = deliverHttpCall(vm, root, call, response, outcome);
    }, sink);
    return delivered;
  }

  private grpc(token: number, event: GrpcEvent, kind: "call" | "stream"): boolean {
    const { vm, root } = this.running();
    const expected = kind === "call" ? 1 : 2;
    if ((token & 3) !== expected) throw new Error(`${token} is not a gRPC ${kind} token (gRPC calls are 5, 9, ...; streams 6, 10, ...)`);
    if (token >= (kind === "call" ? vm.counters.peek("grpcCall") : vm.counters.peek("grpcStream"))) {
      throw new Error(`the plugin never opened gRPC ${kind} ${token}`);
    }
    let delivered = false;
    this.asPluginOperation(() => {
      if (this.shutdownState === "deleted") return;
      delivered = deliverGrpc(vm, root, token, event);
    });
    return delivered;
  }

  private fireTick(): void {
    const { vm, root } = this.running();
    this.asPluginOperation(() => {
      if (this.shutdownState !== "deleted" && vm.failure === null && vm.has("proxy_on_tick")) vm.call("proxy_on_tick", root, root.id);
      // Envoy tickHandler(): re-arm with the (possibly new) period after on_tick.
      const period = vm.tickPeriods.get(root.id) ?? 0;
      if (period > 0) vm.tickDue.set(root.id, this.clock.elapsedMs + period);
      else vm.tickDue.delete(root.id);
    });
  }

  /**
   * Answers the pending calls made since `firstIndex` from the queue, in token order; the
   * callbacks' logs go to the request's (or connection's) logs.
   */
  private answerFromQueue(answers: HttpCallAnswer[], firstIndex: number, sink: LogEntry[]): void {
    const vm = this.vm!;
    for (;;) {
      const call = vm.httpCalls.slice(firstIndex).find((c) => c.pending);
      if (!call || answers.length === 0) return;
      const answer = answers.shift()!;
      if (answer === "fail") this.deliverCall(call, null, "reset", sink);
      else if (answer === "timeout") this.deliverCall(call, TIMEOUT_RESPONSE, "timeout", sink);
      else this.deliverCall(call, answer, "response", sink);
    }
  }

  private running(forNewWork = false): { vm: Vm; root: HostContext } {
    const start = this.start();
    if (!start.ok || !this.vm || !this.root) {
      throw new Error(`the plugin did not start (${start.error}); Envoy would have rejected this configuration`);
    }
    if (forNewWork && this.shutdownState !== "running") throw new Error(`the plugin was shut down (${this.shutdownState})`);
    return { vm: this.vm, root: this.root };
  }

  /** A root-level operation: logs go to plugin.logs; then posted work runs and streams settle. */
  private asPluginOperation(fn: () => void, sink: LogEntry[] = this.logs): void {
    const vm = this.vm!;
    const saved = vm.logSink;
    const savedRunning = vm.operationRunning;
    vm.logSink = sink;
    vm.operationRunning = true;
    try {
      fn();
      vm.runPosted();
      for (const s of this.streams) s.settle();
      for (const c of this.connections) c.settle();
    } finally {
      vm.logSink = saved;
      vm.operationRunning = savedRunning;
    }
    if (!savedRunning) flushPosted();
    this.updateShutdownState();
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
    const vm = new Vm({
      abi: check.abiVersion as AbiVersion,
      vmId: this.vmId,
      vmConfiguration: toBytes(this.options.vmConfiguration ?? ""),
      logLevel: level < 0 ? 2 : level,
      environment: this.options.environment ?? {},
      clusters: this.options.clusters,
      clock: this.clock,
    });
    vm.logSink = this.logs;
    vm.homeLogSink = this.logs;
    for (const [name, fn] of this.foreign) vm.foreignFunctions.set(name, fn);
    const linkError = vm.instantiate(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), parseModule(bytes));
    if (linkError) return logError(linkError);
    this.vm = vm;
    if (!vm.start()) return vm.failure;
    const identity: PluginIdentity = {
      name: this.options.name ?? "",
      rootId: this.options.rootId ?? "",
      vmId: this.vmId,
      configuration: toBytes(this.options.configuration ?? ""),
      properties: encodeProperties(this.options.properties),
    };
    const root = vm.newContext("root", identity, null);
    this.root = root;
    vm.operationRunning = true;
    const startError = this.startRoot(vm, root, identity);
    vm.runPosted();
    vm.operationRunning = false;
    flushPosted();
    // A false answer is reported in StartResult.error only; the logs keep what the module said.
    return startError;
  }

  private startRoot(vm: Vm, root: HostContext, identity: PluginIdentity): string | null {
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
      if (ok === 0) return "Failed to start base Wasm: proxy_on_vm_start returned false";
    }
    if (vm.has("proxy_on_configure")) {
      root.tempPluginConfiguration = identity.configuration;
      const ok = vm.call("proxy_on_configure", root, root.id, identity.configuration.length);
      root.tempPluginConfiguration = null;
      if (vm.failure) return vm.failure;
      if (ok === 0) return "Failed to configure base Wasm plugin: proxy_on_configure returned false";
    }
    return null;
  }
}

/** Pseudo-headers the caller left out get defaults, in front of the given headers. */
function withDefaults(given: HeaderInput[], defaults: Header[]): HeaderInput[] {
  // Envoy compares lower-cased names; only ASCII letters change case.
  const name = (g: string | Uint8Array) => (typeof g === "string" ? g : decodeText(g)).replace(/[A-Z]+/g, (m) => m.toLowerCase());
  const missing = defaults.filter(([k]) => !given.some(([g]) => name(g) === k));
  return [...missing, ...given];
}

function sendMessage(
  headers: HeaderInput[],
  body: (string | Uint8Array)[],
  trailers: HeaderInput[] | undefined,
  sendHeaders: (h: HeaderInput[], eos: boolean) => void,
  sendBody: (b: string | Uint8Array, eos: boolean) => void,
  sendTrailers: (t: HeaderInput[]) => void,
  afterEach: () => void,
): void {
  sendHeaders(headers, body.length === 0 && trailers === undefined);
  afterEach();
  body.forEach((chunk, i) => {
    sendBody(chunk, i === body.length - 1 && trailers === undefined);
    afterEach();
  });
  if (trailers !== undefined) {
    sendTrailers(trailers);
    afterEach();
  }
}

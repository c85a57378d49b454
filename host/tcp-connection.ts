// One downstream TCP connection through a network filter, in Envoy's order (context.cc
// onNewConnection/onData/onWrite/onEvent/onCloseTCP, cpp-host context.cc):
//   on_context_create -> on_new_connection -> on_downstream_data / on_upstream_data* ->
//   on_upstream_connection_close(UNKNOWN) when the upstream's data ends (end_of_stream) ->
//   on_downstream_connection_close(LOCAL|REMOTE) when the connection closes, which at once runs
//   on_done -> on_log -> on_delete. The upstream's end alone never finishes the context.
// A StopIteration (any non-zero return) leaves the data in the connection buffer: the next
// callback of that direction sees it all (cumulative size), and continue_stream(DOWNSTREAM) hands
// it on. continue_stream(UPSTREAM) is UNIMPLEMENTED. close_stream(DOWNSTREAM) and
// close_stream(UPSTREAM) both close the downstream connection (FlushWrite) after the callback:
// Envoy's read and write filter callbacks belong to the same downstream connection.

import { BufferType, StreamType, WasmResult } from "./abi/enums.js";
import type { BodyBuffer, HostContext, NetworkHost } from "./context.js";
import { concat } from "./imports/buffers.js";
import { connectionDefaults, findProperty, type PropertyValue } from "./properties.js";
import type { LogEntry } from "./results.js";
import { encodeText } from "./text.js";
import type { Vm } from "./vm.js";

const decoder = new TextDecoder();

export type TcpPhaseName =
  | "new_connection"
  | "downstream_data"
  | "upstream_data"
  | "downstream_connection_close"
  | "upstream_connection_close"
  | "done"
  | "log"
  | "delete";

export interface TcpPhase {
  phase: TcpPhaseName;
  /** The data size the callback was given (cumulative after a StopIteration). */
  size?: number;
  endOfStream?: boolean;
  /** Close callbacks: 0 UNKNOWN, 1 LOCAL, 2 REMOTE. */
  peer?: number;
  /** "Continue" or "StopIteration" as Envoy reads it. */
  result?: "Continue" | "StopIteration";
}

export interface TcpResult {
  phases: TcpPhase[];
  /** What went to the upstream (client -> server), and whether its end was passed on. */
  upstreamData: string;
  upstreamBytes: Uint8Array;
  upstreamEndOfStream: boolean;
  /** What went to the client (server -> client). */
  downstreamData: string;
  downstreamBytes: Uint8Array;
  downstreamEndOfStream: boolean;
  /** Data held by the filter (StopIteration) and not passed on yet. */
  heldDownstreamData: number;
  heldUpstreamData: number;
  closed: { downstream: boolean; upstream: boolean };
  /** Who closed the connection: "remote", "local" (the test), "plugin" or "vm_failed"; null if open. */
  closedBy: null | "remote" | "local" | "plugin" | "vm_failed";
  /** Envoy's close details when the plugin closed it: "wasm_downstream_close" / "wasm_upstream_close". */
  closeDetails: string | null;
  /** on_done, on_log and on_delete ran (Envoy onCloseTCP). */
  finished: boolean;
  /**
   * Whether tcp_proxy has connected the upstream: at once, unless on_new_connection answered
   * StopIteration; then not before the filter passes data on or calls continue_stream(DOWNSTREAM).
   */
  upstreamConnected: boolean;
  logs: LogEntry[];
}

export interface TcpEnvironment {
  vm: Vm;
  root: HostContext;
  failOpen: boolean;
  properties: ReadonlyMap<string, PropertyValue>;
  connectionId?: number;
  onFinished(connection: TcpConnection): void;
}

class Direction {
  /** The connection buffer this filter sees (data held by StopIteration accumulates here). */
  buffer: BodyBuffer = { bytes: new Uint8Array(0), mutable: true };
  /** Envoy network_*_data_buffer_: set for the callback, kept after a StopIteration. */
  live = false;
  eos = false;
  forwarded: Uint8Array = new Uint8Array(0);
  forwardedEos = false;
}

export class TcpConnection implements NetworkHost {
  readonly logs: LogEntry[] = [];
  private readonly phases: TcpPhase[] = [];
  private readonly ctx: HostContext;
  private readonly down = new Direction();
  private readonly up = new Direction();
  private readonly filterState = new Map<string, Uint8Array>();
  private readonly readonlyState = new Set<string>();
  private readonly defaults: Map<string, PropertyValue>;
  private pending: { continueDown: boolean; close: string | null } = { continueDown: false, close: null };
  private downstreamClosed = false;
  private upstreamClosed = false;
  private closedBy: TcpResult["closedBy"] = null;
  private closeDetails: string | null = null;
  private finished = false;
  private failed = false;
  /** Envoy's filter chain initializes tcp_proxy (which connects the upstream) only past this filter. */
  private connected = true;

  constructor(private readonly env: TcpEnvironment) {
    this.ctx = env.vm.newContext("stream", env.root.plugin!, env.root);
    this.ctx.network = this;
    this.defaults = connectionDefaults(env.connectionId ?? this.ctx.id);
    this.operation(() => {
      const vm = env.vm;
      // Envoy onNewConnection(): onCreate() then on_new_connection.
      if (vm.failure === null && vm.has("proxy_on_context_create")) vm.call("proxy_on_context_create", this.ctx, this.ctx.id, env.root.id);
      // StopIteration: FilterManagerImpl stops before tcp_proxy's onNewConnection, so no upstream yet.
      this.connected = this.invoke("new_connection", "proxy_on_new_connection", [this.ctx.id], {}) === "Continue";
    });
  }

  get id(): number {
    return this.ctx.id;
  }

  /** Whether tcp_proxy has connected the upstream (see TcpResult.upstreamConnected). */
  get upstreamConnected(): boolean {
    return this.connected;
  }

  /** Client -> upstream data (Envoy onData); ignored once the connection is closed. */
  sendDownstreamData(chunk: string | Uint8Array, endOfStream = false): void {
    this.operation(() => this.onData(this.down, "downstream_data", "proxy_on_downstream_data", toBytes(chunk), endOfStream));
  }

  /**
   * Upstream -> client data (Envoy onWrite). With endOfStream Envoy then calls
   * on_upstream_connection_close(UNKNOWN): that is the only upstream close it reports. Throws
   * while the upstream is not connected (result().upstreamConnected).
   */
  sendUpstreamData(chunk: string | Uint8Array, endOfStream = false): void {
    if (!this.connected && !this.downstreamClosed) {
      throw new Error(
        "no upstream connection yet: on_new_connection answered StopIteration, and tcp_proxy connects only once the filter passes data on or calls continue_stream(DOWNSTREAM)",
      );
    }
    this.operation(() => {
      if (this.downstreamClosed) return;
      this.onData(this.up, "upstream_data", "proxy_on_upstream_data", toBytes(chunk), endOfStream);
      if (endOfStream) this.onUpstreamClose();
    });
  }

  /** The client closed ("remote", peer 2) or Envoy closed the connection ("local", peer 1). */
  closeDownstream(peer: "remote" | "local" = "remote"): void {
    this.operation(() => this.onDownstreamClose(peer === "local" ? 1 : 2, peer));
  }

  /** The upstream finished: same as sendUpstreamData("", true). */
  closeUpstream(): void {
    this.sendUpstreamData(new Uint8Array(0), true);
  }

  result(): TcpResult {
    return {
      phases: this.phases.map((p) => ({ ...p })),
      upstreamData: decoder.decode(this.down.forwarded),
      upstreamBytes: this.down.forwarded,
      upstreamEndOfStream: this.down.forwardedEos,
      downstreamData: decoder.decode(this.up.forwarded),
      downstreamBytes: this.up.forwarded,
      downstreamEndOfStream: this.up.forwardedEos,
      heldDownstreamData: this.down.buffer.bytes.length,
      heldUpstreamData: this.up.buffer.bytes.length,
      closed: { downstream: this.downstreamClosed, upstream: this.upstreamClosed },
      closedBy: this.closedBy,
      closeDetails: this.closeDetails,
      finished: this.finished,
      upstreamConnected: this.connected,
      logs: [...this.logs],
    };
  }

  /** Applies continue/close requested from another context's callback. */
  settle(): void {
    this.operation(() => this.applyPending());
  }

  // ---- NetworkHost ---------------------------------------------------------------------

  data(type: BufferType): BodyBuffer | null {
    const d = type === BufferType.DownstreamData ? this.down : this.up;
    return d.live ? d.buffer : null;
  }

  continueStream(type: StreamType): WasmResult {
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    if (type === StreamType.Downstream) this.pending.continueDown = true;
    // HTTP types: a network filter has no decoder/encoder callbacks; Envoy answers OK.
    return WasmResult.Ok;
  }

  closeStream(type: StreamType): WasmResult {
    if (type === StreamType.Downstream) this.pending.close ??= "wasm_downstream_close";
    else if (type === StreamType.Upstream) this.pending.close ??= "wasm_upstream_close";
    return WasmResult.Ok;
  }

  property(segments: string[]): Uint8Array | undefined {
    const state = this.filterState.get(segments[0]);
    if (state !== undefined) return segments.length === 1 ? state : undefined;
    return undefined;
  }

  userProperty(segments: string[]): Uint8Array | undefined {
    return findProperty(this.env.properties, segments) ?? findProperty(this.defaults, segments);
  }

  setProperty(rawPath: string, value: Uint8Array, readonly = false): WasmResult {
    const existed = this.filterState.has(rawPath);
    // CelState::setValue: a readonly state takes its first value only.
    if (existed && this.readonlyState.has(rawPath)) return WasmResult.BadArgument;
    this.filterState.set(rawPath, value.slice());
    if (!existed && readonly) this.readonlyState.add(rawPath);
    return WasmResult.Ok;
  }

  // ---- The model -----------------------------------------------------------------------

  private operation(fn: () => void): void {
    this.env.vm.runOperation(this.logs, fn);
  }


  private onData(d: Direction, phase: TcpPhaseName, name: string, chunk: Uint8Array, eos: boolean): void {
    if (this.downstreamClosed || d.eos) return;
    d.buffer.bytes = concat(d.buffer.bytes, chunk);
    d.eos = eos;
    d.live = true;
    const status = this.invoke(phase, name, [this.ctx.id, d.buffer.bytes.length, eos ? 1 : 0], { size: d.buffer.bytes.length, endOfStream: eos });
    if (status === "Continue") {
      this.forward(d);
      d.live = false;
    }
    this.applyPending();
  }

  private forward(d: Direction): void {
    // Envoy onContinueReading(): past this filter, tcp_proxy's onNewConnection connects first.
    if (d === this.down) this.connected = true;
    d.forwarded = concat(d.forwarded, d.buffer.bytes);
    d.buffer.bytes = new Uint8Array(0);
    if (d.eos) d.forwardedEos = true;
  }

  private onUpstreamClose(): void {
    if (this.upstreamClosed) return;
    this.upstreamClosed = true;
    this.callVoid("upstream_connection_close", "proxy_on_upstream_connection_close", [this.ctx.id, 0], { peer: 0 });
    // Envoy onUpstreamConnectionClose(): onCloseTCP() only if the downstream already closed.
    if (this.downstreamClosed) this.finish();
  }

  private onDownstreamClose(peer: number, by: NonNullable<TcpResult["closedBy"]>): void {
    if (this.downstreamClosed) return;
    this.downstreamClosed = true;
    this.closedBy ??= by;
    this.callVoid("downstream_connection_close", "proxy_on_downstream_connection_close", [this.ctx.id, peer], { peer });
    this.finish();
  }

  /** Envoy onCloseTCP(): on_done, on_log, on_delete; the on_done answer is ignored. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.callVoid("done", "proxy_on_done", [this.ctx.id], {});
    this.callVoid("log", "proxy_on_log", [this.ctx.id], {});
    this.callVoid("delete", "proxy_on_delete", [this.ctx.id], {});
    this.env.vm.contexts.delete(this.ctx.id);
    this.env.onFinished(this);
  }

  private applyPending(): void {
    const { continueDown, close } = this.pending;
    this.pending = { continueDown: false, close: null };
    if (continueDown && !this.downstreamClosed) {
      // continueReading(): the next filter (tcp_proxy) connects if it has not, and takes what
      // this filter held.
      this.connected = true;
      if (this.down.buffer.bytes.length + (this.down.eos ? 1 : 0) > 0) this.forward(this.down);
    }
    if (close !== null && !this.downstreamClosed) {
      this.closeDetails = close;
      this.onDownstreamClose(1, "plugin");
    }
  }

  /** Calls a data/new-connection callback; returns what Envoy reads (cpp-host: non-zero stops). */
  private invoke(phase: TcpPhaseName, name: string, args: number[], extra: Partial<TcpPhase>): "Continue" | "StopIteration" {
    const vm = this.env.vm;
    if (vm.failure !== null) return this.failStream();
    let raw: number | null = 0;
    if (vm.has(name)) raw = vm.call(name, this.ctx, args[0], args[1], args[2]);
    // cpp-host CHECK_FAIL after the call: a trap in a nested call (malloc) fails the VM too.
    if (raw === null || vm.failure !== null) {
      this.phases.push({ phase, ...extra, result: this.env.failOpen ? "Continue" : "StopIteration" });
      return this.failStream();
    }
    const result = raw === 0 ? "Continue" : "StopIteration";
    this.phases.push({ phase, ...extra, result });
    return result;
  }

  private callVoid(phase: TcpPhaseName, name: string, args: number[], extra: Partial<TcpPhase>): void {
    const vm = this.env.vm;
    if (vm.failure !== null) return; // cpp-host skips every callback of a failed VM
    this.phases.push({ phase, ...extra });
    if (vm.has(name)) vm.call(name, this.ctx, args[0], args[1], args[2]);
  }

  /** cpp-host CHECK_FAIL_NET: fail open (Continue) or close the connection (Envoy failStream). */
  private failStream(): "Continue" | "StopIteration" {
    if (this.env.failOpen) return "Continue";
    if (!this.failed) {
      this.failed = true;
      this.closedBy = "vm_failed";
      // connection().close(FlushWrite): the close callbacks of a failed VM are skipped.
      this.downstreamClosed = true;
      this.finished = true;
      this.env.vm.contexts.delete(this.ctx.id);
      this.env.onFinished(this);
    }
    return "StopIteration";
  }
}

function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === "string" ? encodeText(chunk) : chunk;
}

// One HTTP stream through one Wasm filter, in Envoy's order and with Envoy's filter-manager
// rules (source/extensions/common/wasm/context.cc decode*/encode*, cpp-host context.cc):
//   on_context_create -> request headers -> body* -> trailers? -> response headers -> body* ->
//   trailers? -> on_log -> on_done -> on_delete.
// A pause holds the rest of that direction until proxy_continue_stream; continue, local replies
// and resets requested inside a callback are applied after it returns, as Envoy defers them.

import {
  BufferType,
  MapType,
  StreamType,
  WasmResult,
  normaliseDataStatus,
  normaliseHeadersStatus,
  normaliseTrailersStatus,
} from "./abi/enums.js";
import { concat } from "./imports/buffers.js";
import type { BodyBuffer, HostContext, LocalReplyRequest, StreamHost } from "./context.js";
import { ForwardedState, type Forwarded } from "./forwarded.js";
import { HeaderMap, type HeaderInput } from "./header-map.js";
import { prepareLocalReply, requestKind, type RequestKind } from "./local-reply.js";
import type { LocalResponse, LogEntry, Phase, PhaseName, RequestResult } from "./results.js";
import { flushPosted, type Vm } from "./vm.js";
import type { PropertyValue } from "./properties.js";
import { StreamAttributes, type AttributeStream } from "./stream-attributes.js";
import { CALLBACKS, Direction, EMPTY_BODY, FAILED_STATUS, message, toBytes, type Callback, type Dir } from "./stream-direction.js";
import { decodeText, EMPTY_BYTES, encodeText } from "./text.js";

export type { Forwarded };

/** Envoy's default per_connection_buffer_limit_bytes (the listener's), which bounds a filter's buffered body. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

export interface StreamEnvironment {
  vm: Vm;
  root: HostContext;
  failOpen: boolean;
  /** The plugin's options.properties with the stream's own on top. */
  properties: ReadonlyMap<string, PropertyValue>;
  /** Envoy's downstream connection id (connection.id, connection_id). */
  connectionId?: number;
  /** The stream's buffer limit (Envoy: the listener's per_connection_buffer_limit_bytes). */
  bufferLimitBytes?: number;
  onFinished(stream: HttpStream): void;
}

export class HttpStream implements StreamHost {
  readonly logs: LogEntry[] = [];
  private readonly phases: Phase[] = [];
  private readonly req = new Direction();
  private readonly resp = new Direction();
  private readonly ctx: HostContext;
  /** request.time: when the stream was created. */
  private readonly createdAtNs: bigint;
  /** Built on the first get_property/set_property. */
  private attributeSource: StreamAttributes | null = null;
  private stopped: RequestResult["stopped"] = null;
  /** The local reply that went out (or replaced the response), and its public form once asked for. */
  private localReply: LocalReplyRequest | null = null;
  /** gRPC or HEAD, from the request headers as they arrived (decides how a local reply looks). */
  private requestKind: RequestKind = { grpc: false, head: false };
  /** response.code_details after close_stream. */
  private closeDetails: string | null = null;
  /** Body bytes that arrived in each direction (to tell a body the filter changed). */
  private readonly received = { request: 0, response: 0 };
  private localResponse: LocalResponse | null = null;
  // What a callback asked for (continue_stream, close_stream, send_local_response), applied after it.
  private pendingContinues: Dir[] | null = null;
  private pendingReset = false;
  private pendingLocalReply: LocalReplyRequest | null = null;
  private endOfStream = false;
  accessLogPhase = false;
  private created = false;
  private failureReplySent = false;
  private completed = false;

  constructor(private readonly env: StreamEnvironment) {
    this.ctx = env.vm.newContext("stream", env.root.plugin!, env.root);
    this.ctx.stream = this;
    this.createdAtNs = env.vm.clock.realtimeNs();
  }

  /** The stream's context id (shared counter with the root: 2 for the first stream). Any time. */
  get id(): number {
    return this.ctx.id;
  }

  // ---- Input, phase by phase -------------------------------------------------------------

  /** Request headers from the client (decodeHeaders); creates the context first. Once, first. */
  sendRequestHeaders(headers: ReadonlyArray<HeaderInput>, endOfStream: boolean): void {
    this.operation(this.decodeHeaders, headers, endOfStream);
  }

  /** A request body chunk (decodeData); held while the headers are paused. After the request headers. */
  sendRequestBody(chunk: string | Uint8Array, endOfStream: boolean): void {
    this.operation(this.decodeData, chunk, endOfStream);
  }

  /** Request trailers (decodeTrailers); ends the request. After the request headers. */
  sendRequestTrailers(trailers: ReadonlyArray<HeaderInput>): void {
    this.operation(this.decodeTrailers, trailers);
  }

  /** Upstream response headers (encodeHeaders); ignored after a local response. Once the request reached the upstream. */
  sendResponseHeaders(headers: ReadonlyArray<HeaderInput>, endOfStream: boolean): void {
    this.operation(this.encodeHeaders, headers, endOfStream);
  }

  /** A response body chunk (encodeData). After the response headers. */
  sendResponseBody(chunk: string | Uint8Array, endOfStream: boolean): void {
    this.operation(this.encodeData, chunk, endOfStream);
  }

  /** Response trailers (encodeTrailers). After the response headers. */
  sendResponseTrailers(trailers: ReadonlyArray<HeaderInput>): void {
    this.operation(this.encodeTrailers, trailers);
  }

  /**
   * What the filter has passed on so far in one direction (to the upstream, or to the client), and
   * whether that direction is complete. Any time; a filter chain feeds it to the next filter.
   */
  forwarded(direction: "request" | "response"): Readonly<Forwarded> {
    return (direction === "request" ? this.req.forwarded : this.resp.forwarded).view();
  }

  /**
   * Takes the body chunks the filter passed on in one direction since the last take: for a chain
   * that streams, so the stream holds only what the filter buffers. forwarded().body and result()
   * then show only what was not taken.
   */
  takeForwardedBody(direction: "request" | "response"): Uint8Array[] {
    return (direction === "request" ? this.req.forwarded : this.resp.forwarded).takeBody();
  }

  /** The callbacks so far, in order, without a copy (result().phases copies): a tracer reads what each operation added. */
  get phasesSoFar(): readonly Readonly<Phase>[] {
    return this.phases;
  }

  /** result().stopped without building the result. */
  get stoppedBy(): RequestResult["stopped"] {
    return this.stopped;
  }

  /** Whether the whole request reached the upstream, so an upstream response can follow. */
  get requestComplete(): boolean {
    return this.req.forwarded.complete && this.stopped === null;
  }

  /** End of the stream: on_log (access-log phase), then on_done and on_delete (Envoy onDestroy). */
  complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.operation(this.destroy);
  }

  /** What happened so far: phases, what reached each side, local response, logs, callouts. Any time. */
  result(): RequestResult {
    let stopped = this.stopped;
    if (stopped === null && (this.req.iteration !== "continue" || this.resp.iteration !== "continue")) stopped = "paused";
    return {
      phases: this.phases.map((p) => ({ ...p })),
      upstreamRequest: message(this.req),
      downstreamResponse: message(this.resp),
      localResponse: this.publicLocalResponse(),
      stopped,
      logs: [...this.logs],
      httpCalls: this.env.vm.httpCalls
        .filter((c) => c.contextId === this.ctx.id)
        .map((c) => ({ token: c.token, upstream: c.upstream, headers: c.headers, body: c.body, trailers: c.trailers, timeoutMs: c.timeoutMs })),
    };
  }

  /** Applies continue/reset/local reply requested from another context's callback. */
  settle(): void {
    this.operation(this.applyPending);
  }

  // ---- StreamHost: what hostcalls see -----------------------------------------------------

  mutableMap(type: MapType): HeaderMap | null {
    const d = type === MapType.RequestHeaders || type === MapType.RequestTrailers ? this.req : this.resp;
    if (type === MapType.RequestHeaders || type === MapType.ResponseHeaders) return d.headersLive ? d.headers : null;
    // Envoy getMap(): trailers can be added in the last body callback when there are none.
    if (!d.trailers && d.currentBody && this.endOfStream) {
      d.trailers = new HeaderMap([], d === this.req ? "requestTrailers" : "responseTrailers");
      d.trailersLive = true;
      d.trailersAdded = true;
    }
    return d.trailersLive ? d.trailers : null;
  }

  readableMap(type: MapType): HeaderMap | null {
    if (this.accessLogPhase) {
      // Envoy log(): the access log's request headers, response headers and trailers.
      if (type === MapType.RequestHeaders) return this.req.started ? this.req.headers : null;
      if (type === MapType.RequestTrailers) return null;
      const fwd = this.resp.forwarded;
      return type === MapType.ResponseHeaders ? fwd.headers : fwd.trailers;
    }
    const d = type === MapType.RequestHeaders || type === MapType.RequestTrailers ? this.req : this.resp;
    if (type === MapType.RequestHeaders || type === MapType.ResponseHeaders) return d.headersLive ? d.headers : null;
    return d.trailersLive ? d.trailers : null;
  }

  body(type: BufferType): BodyBuffer | null {
    const d = type === BufferType.HttpRequestBody ? this.req : this.resp;
    if (d.bufferingBody) return d.buffered;
    return d.currentBody ?? EMPTY_BODY;
  }

  continueStream(type: StreamType): WasmResult {
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    if (type === StreamType.Downstream) return WasmResult.Ok; // no network filter callbacks
    const d = type === StreamType.HttpRequest ? "request" : "response";
    this.pendingContinues ??= [];
    if (!this.pendingContinues.includes(d)) this.pendingContinues.push(d);
    // Envoy continueStream() drops its request pointers right away, for either direction.
    this.req.headersLive = false;
    this.req.currentBody = null;
    this.req.trailersLive = false;
    return WasmResult.Ok;
  }

  closeStream(type: StreamType): WasmResult {
    if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return WasmResult.Ok;
    this.pendingReset = true;
    // Envoy Context::closeStream: the response code details, unless some are set already.
    if (this.localReply === null) this.closeDetails ??= "wasm_close_stream";
    return WasmResult.Ok;
  }

  sendLocalResponse(reply: LocalReplyRequest): void {
    this.pendingLocalReply = reply;
  }

  private get attributes(): StreamAttributes {
    if (this.attributeSource === null) {
      const stream: AttributeStream = {
        readableMap: (type) => this.readableMap(type),
        responseHeaders: () => (this.resp.started ? this.resp.headers : null),
        responseCodeDetails: () => this.localReply?.details ?? this.closeDetails ?? (this.resp.started ? "via_upstream" : null),
        bytesReceived: () => this.received.request,
        bytesSent: () => this.resp.forwarded.body.length,
      };
      this.attributeSource = new StreamAttributes(stream, this.env.properties, this.env.connectionId ?? this.ctx.id, this.createdAtNs);
    }
    return this.attributeSource;
  }

  property(segments: string[]): Uint8Array | undefined {
    return this.attributes.property(segments);
  }

  userProperty(segments: string[]): Uint8Array | undefined {
    return this.attributes.userProperty(segments);
  }

  setProperty(rawPath: string, value: Uint8Array): WasmResult {
    return this.attributes.setProperty(rawPath, value);
  }

  // ---- The filter-manager model -----------------------------------------------------------

  private dir(d: Dir): Direction {
    return d === "request" ? this.req : this.resp;
  }

  /**
   * Runs `step` as one outside operation: logs go to this stream, and work posted meanwhile runs
   * after it. (A method and its arguments rather than a closure: one runs per stream phase.)
   */
  private operation<A, B>(step: (this: HttpStream, a: A, b: B) => void, a?: A, b?: B): void {
    const vm = this.env.vm;
    const savedSink = vm.logSink;
    const savedRunning = vm.operationRunning;
    vm.logSink = this.logs;
    vm.operationRunning = true;
    try {
      step.call(this, a as A, b as B);
      vm.runPosted();
    } finally {
      vm.logSink = savedSink;
      vm.operationRunning = savedRunning;
    }
    if (!savedRunning) flushPosted();
  }

  // The operations' steps, named after Envoy's decode* (request) and encode* (response) calls.

  private decodeHeaders(headers: ReadonlyArray<HeaderInput>, endOfStream: boolean): void {
    if (this.req.closed || this.req.started) return;
    this.onCreate();
    const map = new HeaderMap(headers, "requestHeaders");
    this.requestKind = requestKind(map);
    this.onHeaders("request", map, endOfStream);
  }

  private decodeData(chunk: string | Uint8Array, endOfStream: boolean): void {
    const bytes = toBytes(chunk);
    this.received.request += bytes.length;
    this.onBody("request", bytes, endOfStream);
  }

  private decodeTrailers(trailers: ReadonlyArray<HeaderInput>): void {
    this.onTrailers("request", [...trailers]);
  }

  private encodeHeaders(headers: ReadonlyArray<HeaderInput>, endOfStream: boolean): void {
    if (this.resp.closed || this.resp.started || this.localReply) return;
    this.onHeaders("response", new HeaderMap(headers, "responseHeaders"), endOfStream);
  }

  private encodeData(chunk: string | Uint8Array, endOfStream: boolean): void {
    if (this.localReply) return;
    const bytes = toBytes(chunk);
    this.received.response += bytes.length;
    this.onBody("response", bytes, endOfStream);
  }

  private encodeTrailers(trailers: ReadonlyArray<HeaderInput>): void {
    if (!this.localReply) this.onTrailers("response", [...trailers]);
  }

  private destroy(): void {
    this.onCreate(); // Envoy creates the context in log() if no headers came first
    this.accessLogPhase = true;
    this.callVoid("log", "proxy_on_log");
    this.accessLogPhase = false;
    this.callVoid("done", "proxy_on_done");
    this.callVoid("delete", "proxy_on_delete");
    this.env.vm.contexts.delete(this.ctx.id);
    this.env.onFinished(this);
  }

  private onCreate(): void {
    if (this.created) return;
    this.created = true;
    const vm = this.env.vm;
    if (vm.failure === null && vm.has("proxy_on_context_create")) {
      vm.call("proxy_on_context_create", this.ctx, this.ctx.id, this.env.root.id);
    }
  }

  private onHeaders(d: Dir, headers: HeaderMap, eos: boolean): void {
    const s = this.dir(d);
    s.started = true;
    s.headers = headers;
    s.headersLive = true;
    s.eosReceived = eos;
    this.endOfStream = eos;
    const status = this.invoke(CALLBACKS[d].headers, "headers", headers.size, eos);
    if (status === null || this.resetFirst()) return;
    if (status === "Continue" || status === "ContinueAndEndStream") {
      s.headersLive = false;
      this.forwardHeaders(d, eos);
    } else {
      s.iteration = "stoppedAll";
      s.stopAllBuffer = status === "StopAllIterationAndBuffer";
    }
    this.applyPending();
  }

  private onBody(d: Dir, chunk: Uint8Array, eos: boolean): void {
    const s = this.dir(d);
    if (s.closed || !s.started || s.forwarded.complete) return;
    s.eosReceived = eos;
    if (s.iteration === "stoppedAll") {
      s.heldBody = concat(s.heldBody ?? EMPTY_BYTES, chunk);
      s.heldEos = eos;
      // Envoy handleDataIfStopAll(): the data goes into the filter's watermark buffer; over the
      // limit it is "too large" unless the filter stopped with ...AndWatermark (streaming).
      s.streaming = !s.stopAllBuffer;
      if (!s.streaming && s.heldBody.length > this.bufferLimit) this.payloadTooLarge(d);
      return;
    }
    this.deliverBody(d, chunk, eos);
  }

  private deliverBody(d: Dir, chunk: Uint8Array, eos: boolean): void {
    const s = this.dir(d);
    this.endOfStream = eos;
    let view: BodyBuffer;
    if (s.bufferingBody) {
      s.buffered.bytes = concat(s.buffered.bytes, chunk);
      view = s.buffered;
    } else {
      view = { bytes: chunk, mutable: true };
    }
    s.currentBody = view;
    const status = this.invoke(CALLBACKS[d].body, "data", view.bytes.length, eos);
    s.bufferingBody = false;
    if (status === null || this.resetFirst()) return;
    const keep = () => {
      if (view !== s.buffered) s.buffered.bytes = concat(s.buffered.bytes, view.bytes);
    };
    // Envoy commonHandleBufferData(): data moved into the filter's buffer (on a stop that buffers,
    // or on Continue after an earlier stop) trips the buffer limit when not streaming.
    const wasStopped = s.iteration === "stoppedSingle";
    let overLimit = false;
    if (status === "Continue") {
      keep();
      overLimit = wasStopped && !s.streaming && s.buffered.bytes.length > this.bufferLimit;
      if (!overLimit) {
        s.currentBody = null;
        s.iteration = "continue";
        this.forwardBody(d, eos);
      }
    } else {
      // Buffer keeps everything for the next callback; Watermark buffers but shows only new
      // chunks; NoBuffer drops the chunk (the filter was supposed to have taken it).
      if (status !== "StopIterationNoBuffer") {
        keep();
        s.streaming = status === "StopIterationAndWatermark";
        overLimit = !s.streaming && s.buffered.bytes.length > this.bufferLimit;
      }
      s.bufferingBody = status === "StopIterationAndBuffer";
      s.currentBody = s.buffered;
      s.iteration = "stoppedSingle";
    }
    if (overLimit && this.pendingLocalReply === null && !this.pendingReset) {
      this.pendingContinues = this.pendingContinues?.filter((c) => c !== d) ?? null;
      this.payloadTooLarge(d);
    }
    this.applyPending();
  }

  private onTrailers(d: Dir, trailers: HeaderInput[]): void {
    const s = this.dir(d);
    if (s.closed || !s.started || s.forwarded.complete) return;
    s.eosReceived = true;
    if (s.iteration === "stoppedAll") {
      s.heldTrailers = trailers;
      return;
    }
    this.deliverTrailers(d, trailers);
  }

  private deliverTrailers(d: Dir, trailers: HeaderInput[]): void {
    const s = this.dir(d);
    s.trailers = new HeaderMap(trailers, d === "request" ? "requestTrailers" : "responseTrailers");
    s.trailersLive = true;
    this.endOfStream = true;
    const status = this.invoke(CALLBACKS[d].trailers, "trailers", s.trailers.size);
    if (status === null || this.resetFirst()) return;
    if (status === "Continue") {
      s.trailersLive = false;
      s.iteration = "continue";
      this.forwardBody(d, false);
      this.forwardTrailers(d);
    } else {
      s.iteration = "stoppedSingle";
      s.trailersPending = true;
    }
    this.applyPending();
  }

  /** Envoy continueDecoding()/continueEncoding() for a paused direction. */
  private resume(d: Dir): void {
    const s = this.dir(d);
    if (s.closed || s.iteration === "continue") return;
    if (s.iteration === "stoppedAll") {
      s.iteration = "continue";
      const { heldBody: body, heldEos: eos, heldTrailers: trailers } = s;
      s.clearHeld();
      this.forwardHeaders(d, s.eosReceived && body === null && trailers === null);
      // The held body reaches this filter now, in one callback.
      if (body !== null) this.deliverBody(d, body, eos && trailers === null);
      if (trailers !== null && !s.closed) {
        if (s.iteration === "continue") this.deliverTrailers(d, trailers);
        else s.heldTrailers = trailers;
      }
      return;
    }
    s.iteration = "continue";
    s.bufferingBody = false;
    s.currentBody = null;
    this.forwardBody(d, s.eosReceived && !s.trailersPending && s.heldTrailers === null);
    if (s.trailersPending) {
      s.trailersPending = false;
      s.trailersLive = false;
      this.forwardTrailers(d);
    } else if (s.heldTrailers !== null) {
      const trailers = s.heldTrailers;
      s.heldTrailers = null;
      this.deliverTrailers(d, trailers);
    }
  }

  /**
   * Envoy requestDataTooLarge()/responseDataTooLarge() when not streaming: a local reply 413
   * "Payload Too Large" (request_payload_too_large) or 500 (response_payload_too_large); once the
   * response headers went downstream the stream is reset instead.
   */
  private payloadTooLarge(d: Dir): void {
    const s = this.dir(d);
    s.buffered = { bytes: EMPTY_BYTES, mutable: true };
    s.clearHeld();
    s.bufferingBody = false;
    s.currentBody = null;
    const [status, text, details] =
      d === "request"
        ? [413, "Payload Too Large", "request_payload_too_large"]
        : [500, "Internal Server Error", "response_payload_too_large"];
    if (d === "response") {
      // The reply replaces the response this filter holds; it does not run through it again.
      s.iteration = "continue";
    }
    this.applyLocalReply({ status, body: encodeText(text), headers: [], details, grpcStatus: null });
  }

  private get bufferLimit(): number {
    return this.env.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES;
  }

  private forwardHeaders(d: Dir, eos: boolean): void {
    const s = this.dir(d);
    s.forwarded.setHeaders(s.headers!);
    if (eos) this.markComplete(d);
  }

  /**
   * The direction is complete. Envoy passes a content-length on as it is, also after a filter
   * changed the body (neither the Wasm filter nor the filter manager update it): the peer then
   * reads a cut body or waits for bytes that never come (HTTP/1), or the codec resets the stream
   * (HTTP/2). Warn when the filter changed the body and the content-length no longer fits it.
   */
  private markComplete(d: Dir): void {
    const fwd = this.dir(d).forwarded;
    fwd.markComplete();
    const declared = fwd.headers?.getFirst("content-length");
    if (declared === undefined || !/^\d+$/.test(declared)) return;
    const sent = fwd.bodyBytesPassed;
    if (Number(declared) === sent || sent === this.received[d]) return;
    this.env.vm.log(
      3,
      `host: the filter changed the ${d} body to ${sent} bytes but content-length still says ${declared}; ` +
        `Envoy forwards it as is, so the ${d === "request" ? "upstream" : "client"} gets a broken message: ` +
        `remove content-length in on_${d}_headers or set the new length`,
    );
  }

  /** Sends the buffered data on; with eos also the trailers the plugin added. */
  private forwardBody(d: Dir, eos: boolean): void {
    const s = this.dir(d);
    // The buffer's bytes are never changed in place, and the buffer starts afresh: hand them over.
    s.forwarded.appendBody(s.buffered.bytes);
    s.buffered = { bytes: EMPTY_BYTES, mutable: true };
    if (!eos) return;
    if (s.trailersAdded && s.trailers) this.forwardTrailers(d);
    else this.markComplete(d);
  }

  private forwardTrailers(d: Dir): void {
    const s = this.dir(d);
    s.forwarded.setTrailers(s.trailers ?? new HeaderMap([], d === "request" ? "requestTrailers" : "responseTrailers"));
    this.markComplete(d);
  }

  /**
   * Calls a filter callback and returns the status Envoy reads, or null when the stream was
   * ended by a VM failure. A VM that failed earlier is not called (cpp-host CHECK_FAIL).
   */
  private invoke(callback: Callback, kind: "headers" | "data" | "trailers", size: number, eos?: boolean): string | null {
    const vm = this.env.vm;
    if (vm.failure !== null) return this.failStream();
    if (!vm.has(callback.name)) {
      this.recordPhase(callback.phase, eos, "Continue");
      return "Continue";
    }
    vm.stopNextIteration = false;
    // Trailers callbacks take no end_of_stream.
    const raw =
      eos === undefined ? vm.call(callback.name, this.ctx, this.ctx.id, size) : vm.call(callback.name, this.ctx, this.ctx.id, size, eos ? 1 : 0);
    const forced = vm.stopNextIteration;
    vm.stopNextIteration = false;
    if (raw === null || vm.failure !== null) {
      // cpp-host CHECK_FAIL after the call: what Envoy reads once the VM failed (also when the
      // trap was in a nested call, such as malloc inside a hostcall, and the callback returned).
      this.recordPhase(callback.phase, eos, this.env.failOpen ? "Continue" : FAILED_STATUS[kind]);
      return this.failStream();
    }
    const status =
      kind === "headers" ? normaliseHeadersStatus(raw, forced) : kind === "data" ? normaliseDataStatus(raw, forced) : normaliseTrailersStatus(raw, forced);
    this.recordPhase(callback.phase, eos, status);
    return status;
  }

  private recordPhase(phase: PhaseName, endOfStream: boolean | undefined, result: string): void {
    this.phases.push(endOfStream === undefined ? { phase, result } : { phase, endOfStream, result });
  }

  private callVoid(phase: PhaseName, name: string): void {
    const vm = this.env.vm;
    if (vm.failure !== null) return;
    this.phases.push({ phase });
    if (vm.has(name)) vm.call(name, this.ctx, this.ctx.id);
  }

  /** cpp-host CHECK_FAIL: fail open (Continue) or fail closed with Envoy's failStream(). */
  private failStream(): string | null {
    if (this.env.failOpen) return "Continue";
    if (!this.failureReplySent) {
      this.failureReplySent = true;
      this.stopped = "vm_failed";
      this.req.closed = true;
      // Envoy: sendLocalReply(503, "", grpc Unavailable, "wasm_fail_stream"); encode* of this
      // filter then skip the VM (failure_local_reply_sent_), so the reply goes out untouched.
      if (this.resp.forwarded.headers === null) {
        const reply = { status: 503, body: new Uint8Array(0), headers: [], details: "wasm_fail_stream", grpcStatus: 14 };
        this.setLocalReply(reply);
        this.resp.forwarded = new ForwardedState();
        this.resp.forwarded.setHeaders(prepareLocalReply(reply, this.requestKind).headers);
        this.resp.forwarded.markComplete();
      }
      this.resp.closed = true;
    }
    return null;
  }

  /**
   * Envoy runs the reset close_stream asked for right after the VM call (an after-VM-call
   * action), before the filter manager passes anything on: what the callback saw goes nowhere.
   */
  private resetFirst(): boolean {
    if (!this.pendingReset) return false;
    this.applyPending();
    return true;
  }

  private applyPending(): void {
    const { pendingReset: reset, pendingLocalReply: localReply, pendingContinues: continues } = this;
    if (!reset && localReply === null && continues === null) return;
    this.pendingReset = false;
    this.pendingLocalReply = null;
    this.pendingContinues = null;
    if (localReply) this.applyLocalReply(localReply);
    if (reset) {
      this.stopped = "reset";
      this.req.closed = this.resp.closed = true;
    }
    if (continues !== null) for (const d of continues) this.resume(d);
  }

  /**
   * Envoy sendLocalReply(): before response headers exist it goes through this filter's own
   * response callbacks; once the filter holds response headers it replaces them directly; after
   * response headers went downstream the stream can only be reset.
   */
  private applyLocalReply(reply: LocalReplyRequest): void {
    if (this.stopped === "reset" || this.stopped === "vm_failed") return;
    this.setLocalReply(reply);
    this.req.closed = true;
    this.req.iteration = "continue";
    if (this.resp.forwarded.headers !== null) {
      this.stopped = "reset";
      this.resp.closed = true;
      return;
    }
    this.stopped = "local_response";
    const { headers, body, endStream } = prepareLocalReply(reply, this.requestKind);
    if (this.resp.started) {
      // sendDirectLocalReply(): straight to the codec, past the filters.
      this.resp.headers = headers;
      this.resp.headersLive = false;
      this.resp.iteration = "continue";
      this.resp.forwarded = new ForwardedState();
      this.resp.forwarded.setHeaders(headers);
      this.resp.forwarded.appendBody(body);
      this.resp.forwarded.markComplete();
      this.resp.closed = true;
      return;
    }
    // sendLocalReplyViaFilterChain(): through this filter's response callbacks; a trailers-only
    // gRPC reply or a HEAD reply ends with the headers, so no body callback follows.
    this.onHeaders("response", headers, endStream);
    if (!endStream) this.onBody("response", body, true);
  }

  private setLocalReply(reply: LocalReplyRequest): void {
    this.localReply = reply;
    this.localResponse = null;
  }

  /** result().localResponse: built once per local reply, so every result() shares it. */
  private publicLocalResponse(): LocalResponse | null {
    const reply = this.localReply;
    if (reply === null) return null;
    return (this.localResponse ??= {
      status: reply.status,
      body: decodeText(reply.body),
      bodyBytes: reply.body,
      headers: reply.headers,
      details: reply.details,
      grpcStatus: reply.grpcStatus,
    });
  }
}

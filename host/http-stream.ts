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
import { encodePairs } from "./abi/pairs.js";
import { concat } from "./imports/buffers.js";
import type { BodyBuffer, HostContext, LocalReplyRequest, StreamHost } from "./context.js";
import { HeaderMap, type Header, type HeaderBytes, type HeaderInput } from "./header-map.js";
import type { LocalResponse, LogEntry, Message, Phase, PhaseName, RequestResult } from "./results.js";
import { flushPosted, type Vm } from "./vm.js";
import { connectionDefaults, findProperty, type PropertyValue } from "./properties.js";

type Dir = "request" | "response";
const EMPTY_BODY: BodyBuffer = { bytes: new Uint8Array(0), mutable: false };
const decoder = new TextDecoder();

const CALLBACKS = {
  request: {
    headers: "proxy_on_request_headers",
    body: "proxy_on_request_body",
    trailers: "proxy_on_request_trailers",
  },
  response: {
    headers: "proxy_on_response_headers",
    body: "proxy_on_response_body",
    trailers: "proxy_on_response_trailers",
  },
} as const;

/** What the filter manager knows about one direction of the stream. */
class Direction {
  started = false;
  headers = new HeaderMap();
  /** Envoy holds a pointer to the map (request_headers_ etc.) only while it is current. */
  headersLive = false;
  trailers: HeaderMap | null = null;
  trailersLive = false;
  /** Trailers created by the plugin in the last body callback (getMap addDecodedTrailers). */
  trailersAdded = false;
  iteration: "continue" | "stoppedAll" | "stoppedSingle" = "continue";
  /** Data the filter manager buffers for this filter (StopIterationAndBuffer/Watermark). */
  buffered: BodyBuffer = { bytes: new Uint8Array(0), mutable: true };
  bufferingBody = false;
  /** The body buffer of the current callback (request_body_buffer_). */
  currentBody: BodyBuffer | null = null;
  /** Input that arrived while headers were paused (StopAllIteration): not shown to the filter. */
  held: { body: Uint8Array | null; eos: boolean; trailers: HeaderInput[] | null } = { body: null, eos: false, trailers: null };
  /** The headers callback answered StopAllIterationAndBuffer (held data counts against the buffer limit). */
  stopAllBuffer = false;
  /**
   * Envoy's decoder_filters_streaming_/encoder_filters_streaming_: false after StopIterationAndBuffer,
   * true after StopIterationAndWatermark. Buffered data over the limit is an error only when false.
   */
  streaming = true;
  trailersPending = false;
  eosReceived = false;
  closed = false;
  forwarded: Forwarded = emptyForwarded();
}

/** What one direction passed on: as strings (lossy for bytes that are not UTF-8) and as raw bytes. */
export interface Forwarded {
  headers: Header[] | null;
  headerBytes: HeaderBytes[] | null;
  body: Uint8Array;
  trailers: Header[] | null;
  trailerBytes: HeaderBytes[] | null;
  complete: boolean;
}

function emptyForwarded(): Forwarded {
  return { headers: null, headerBytes: null, body: new Uint8Array(0), trailers: null, trailerBytes: null, complete: false };
}

function snapshot(map: HeaderMap): { strings: Header[]; bytes: HeaderBytes[] } {
  return { strings: map.toArray(), bytes: map.toBytes() };
}

/** Envoy's default per_connection_buffer_limit_bytes (the listener's), which bounds a filter's buffered body. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

export interface StreamEnvironment {
  vm: Vm;
  root: HostContext;
  failOpen: boolean;
  /** The plugin's options.properties with the stream's own on top. */
  properties: Map<string, PropertyValue>;
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
  private readonly filterState = new Map<string, Uint8Array>();
  private stopped: RequestResult["stopped"] = null;
  private localResponse: LocalResponse | null = null;
  private pending: { continue: Set<Dir>; reset: boolean; localReply: LocalReplyRequest | null } = {
    continue: new Set(),
    reset: false,
    localReply: null,
  };
  private endOfStream = false;
  accessLogPhase = false;
  private created = false;
  private failureReplySent = false;
  private completed = false;

  private readonly defaults: Map<string, PropertyValue>;

  constructor(private readonly env: StreamEnvironment) {
    this.ctx = env.vm.newContext("stream", env.root.plugin!, env.root);
    this.ctx.stream = this;
    this.defaults = connectionDefaults(env.connectionId ?? this.ctx.id);
    this.defaults.set("request.protocol", "HTTP/1.1");
    this.defaults.set("request.time", env.vm.clock.realtimeNs());
  }

  /** The stream's context id (shared counter with the root: 2 for the first stream). Any time. */
  get id(): number {
    return this.ctx.id;
  }

  // ---- Input, phase by phase -------------------------------------------------------------

  /** Request headers from the client (decodeHeaders); creates the context first. Once, first. */
  sendRequestHeaders(headers: ReadonlyArray<HeaderInput>, endOfStream: boolean): void {
    this.operation(() => {
      if (this.req.closed || this.req.started) return;
      this.onCreate();
      this.onHeaders("request", new HeaderMap(headers), endOfStream);
    });
  }

  /** A request body chunk (decodeData); held while the headers are paused. After the request headers. */
  sendRequestBody(chunk: string | Uint8Array, endOfStream: boolean): void {
    this.operation(() => this.onBody("request", toBytes(chunk), endOfStream));
  }

  /** Request trailers (decodeTrailers); ends the request. After the request headers. */
  sendRequestTrailers(trailers: ReadonlyArray<HeaderInput>): void {
    this.operation(() => this.onTrailers("request", [...trailers]));
  }

  /** Upstream response headers (encodeHeaders); ignored after a local response. Once the request reached the upstream. */
  sendResponseHeaders(headers: ReadonlyArray<HeaderInput>, endOfStream: boolean): void {
    this.operation(() => {
      if (this.resp.closed || this.resp.started || this.localResponse) return;
      this.onHeaders("response", new HeaderMap(headers), endOfStream);
    });
  }

  /** A response body chunk (encodeData). After the response headers. */
  sendResponseBody(chunk: string | Uint8Array, endOfStream: boolean): void {
    this.operation(() => !this.localResponse && this.onBody("response", toBytes(chunk), endOfStream));
  }

  /** Response trailers (encodeTrailers). After the response headers. */
  sendResponseTrailers(trailers: ReadonlyArray<HeaderInput>): void {
    this.operation(() => !this.localResponse && this.onTrailers("response", [...trailers]));
  }

  /** Whether the whole request reached the upstream, so an upstream response can follow. */
  /**
   * What the filter has passed on so far in one direction (to the upstream, or to the client), and
   * whether that direction is complete. Any time; a filter chain feeds it to the next filter.
   */
  forwarded(direction: "request" | "response"): Readonly<Forwarded> {
    return direction === "request" ? this.req.forwarded : this.resp.forwarded;
  }

  get requestComplete(): boolean {
    return this.req.forwarded.complete && this.stopped === null;
  }

  /** End of the stream: on_log (access-log phase), then on_done and on_delete (Envoy onDestroy). */
  complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.operation(() => {
      const vm = this.env.vm;
      this.onCreate(); // Envoy creates the context in log() if no headers came first
      this.accessLogPhase = true;
      this.callVoid("log", "proxy_on_log");
      this.accessLogPhase = false;
      this.callVoid("done", "proxy_on_done");
      this.callVoid("delete", "proxy_on_delete");
      vm.contexts.delete(this.ctx.id);
      this.env.onFinished(this);
    });
  }

  /** What happened so far: phases, what reached each side, local response, logs, callouts. Any time. */
  result(): RequestResult {
    let stopped = this.stopped;
    if (stopped === null && (this.req.iteration !== "continue" || this.resp.iteration !== "continue")) stopped = "paused";
    return {
      phases: this.phases.map((p) => ({ ...p })),
      upstreamRequest: message(this.req),
      downstreamResponse: message(this.resp),
      localResponse: this.localResponse,
      stopped,
      logs: [...this.logs],
      httpCalls: this.env.vm.httpCalls
        .filter((c) => c.contextId === this.ctx.id)
        .map((c) => ({ token: c.token, upstream: c.upstream, headers: c.headers, body: c.body, trailers: c.trailers, timeoutMs: c.timeoutMs })),
    };
  }

  /** Applies continue/reset/local reply requested from another context's callback. */
  settle(): void {
    this.operation(() => this.applyPending());
  }

  // ---- StreamHost: what hostcalls see -----------------------------------------------------

  mutableMap(type: MapType): HeaderMap | null {
    const d = type === MapType.RequestHeaders || type === MapType.RequestTrailers ? this.req : this.resp;
    if (type === MapType.RequestHeaders || type === MapType.ResponseHeaders) return d.headersLive ? d.headers : null;
    // Envoy getMap(): trailers can be added in the last body callback when there are none.
    if (!d.trailers && d.currentBody && this.endOfStream) {
      d.trailers = new HeaderMap();
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
      if (type === MapType.ResponseHeaders) return fwd.headerBytes ? new HeaderMap(fwd.headerBytes) : null;
      return fwd.trailerBytes ? new HeaderMap(fwd.trailerBytes) : null;
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
    this.pending.continue.add(type === StreamType.HttpRequest ? "request" : "response");
    // Envoy continueStream() drops its request pointers right away, for either direction.
    this.req.headersLive = false;
    this.req.currentBody = null;
    this.req.trailersLive = false;
    return WasmResult.Ok;
  }

  closeStream(type: StreamType): WasmResult {
    if (type === StreamType.HttpRequest || type === StreamType.HttpResponse) this.pending.reset = true;
    return WasmResult.Ok;
  }

  sendLocalResponse(reply: LocalReplyRequest): void {
    this.pending.localReply = reply;
  }

  property(segments: string[]): Uint8Array | undefined {
    const [top, ...rest] = segments;
    const attribute =
      top === "request" ? this.requestAttribute(rest) : top === "response" ? this.responseAttribute(rest) : undefined;
    if (attribute !== undefined) return attribute;
    const state = this.filterState.get(top);
    if (state !== undefined) return rest.length === 0 ? state : undefined; // bytes cannot be walked into
    return undefined;
  }

  userProperty(segments: string[]): Uint8Array | undefined {
    return findProperty(this.env.properties, segments) ?? findProperty(this.defaults, segments);
  }

  setProperty(rawPath: string, value: Uint8Array): WasmResult {
    // Envoy stores filter state "wasm.<path>"; get_property looks up the first segment only.
    this.filterState.set(rawPath, value.slice());
    return WasmResult.Ok;
  }

  // ---- The filter-manager model -----------------------------------------------------------

  private dir(d: Dir): Direction {
    return d === "request" ? this.req : this.resp;
  }

  private operation(fn: () => void): void {
    const vm = this.env.vm;
    const savedSink = vm.logSink;
    const savedRunning = vm.operationRunning;
    vm.logSink = this.logs;
    vm.operationRunning = true;
    try {
      fn();
      vm.runPosted();
    } finally {
      vm.logSink = savedSink;
      vm.operationRunning = savedRunning;
    }
    if (!savedRunning) flushPosted();
  }

  private onCreate(): void {
    if (this.created) return;
    this.created = true;
    const vm = this.env.vm;
    if (vm.failure === null && vm.has("proxy_on_context_create")) {
      vm.call("proxy_on_context_create", this.ctx, [this.ctx.id, this.env.root.id]);
    }
  }

  private onHeaders(d: Dir, headers: HeaderMap, eos: boolean): void {
    const s = this.dir(d);
    s.started = true;
    s.headers = headers;
    s.headersLive = true;
    s.eosReceived = eos;
    this.endOfStream = eos;
    const status = this.invoke(`${d}_headers`, CALLBACKS[d].headers, [this.ctx.id, headers.size, eos ? 1 : 0], "headers", eos);
    if (status === null) return;
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
      s.held.body = concat(s.held.body ?? new Uint8Array(0), chunk);
      s.held.eos = eos;
      // Envoy handleDataIfStopAll(): the data goes into the filter's watermark buffer; over the
      // limit it is "too large" unless the filter stopped with ...AndWatermark (streaming).
      s.streaming = !s.stopAllBuffer;
      if (!s.streaming && s.held.body.length > this.bufferLimit) this.payloadTooLarge(d);
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
    const status = this.invoke(`${d}_body`, CALLBACKS[d].body, [this.ctx.id, view.bytes.length, eos ? 1 : 0], "data", eos);
    s.bufferingBody = false;
    if (status === null) return;
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
    if (overLimit && this.pending.localReply === null && !this.pending.reset) {
      this.pending.continue.delete(d);
      this.payloadTooLarge(d);
    }
    this.applyPending();
  }

  private onTrailers(d: Dir, trailers: HeaderInput[]): void {
    const s = this.dir(d);
    if (s.closed || !s.started || s.forwarded.complete) return;
    s.eosReceived = true;
    if (s.iteration === "stoppedAll") {
      s.held.trailers = trailers;
      return;
    }
    this.deliverTrailers(d, trailers);
  }

  private deliverTrailers(d: Dir, trailers: HeaderInput[]): void {
    const s = this.dir(d);
    s.trailers = new HeaderMap(trailers);
    s.trailersLive = true;
    this.endOfStream = true;
    const status = this.invoke(`${d}_trailers`, CALLBACKS[d].trailers, [this.ctx.id, s.trailers.size], "trailers");
    if (status === null) return;
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
      const { body, eos, trailers } = s.held;
      s.held = { body: null, eos: false, trailers: null };
      this.forwardHeaders(d, s.eosReceived && body === null && trailers === null);
      // The held body reaches this filter now, in one callback.
      if (body !== null) this.deliverBody(d, body, eos && trailers === null);
      if (trailers !== null && !s.closed) {
        if (s.iteration === "continue") this.deliverTrailers(d, trailers);
        else s.held.trailers = trailers;
      }
      return;
    }
    s.iteration = "continue";
    s.bufferingBody = false;
    s.currentBody = null;
    this.forwardBody(d, s.eosReceived && !s.trailersPending && s.held.trailers === null);
    if (s.trailersPending) {
      s.trailersPending = false;
      s.trailersLive = false;
      this.forwardTrailers(d);
    } else if (s.held.trailers !== null) {
      const trailers = s.held.trailers;
      s.held.trailers = null;
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
    s.buffered = { bytes: new Uint8Array(0), mutable: true };
    s.held = { body: null, eos: false, trailers: null };
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
    this.applyLocalReply({ status, body: new TextEncoder().encode(text), headers: [], details, grpcStatus: null });
  }

  private get bufferLimit(): number {
    return this.env.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES;
  }

  private forwardHeaders(d: Dir, eos: boolean): void {
    const s = this.dir(d);
    const { strings, bytes } = snapshot(s.headers);
    s.forwarded.headers = strings;
    s.forwarded.headerBytes = bytes;
    if (eos) s.forwarded.complete = true;
  }

  /** Sends the buffered data on; with eos also the trailers the plugin added. */
  private forwardBody(d: Dir, eos: boolean): void {
    const s = this.dir(d);
    s.forwarded.body = concat(s.forwarded.body, s.buffered.bytes);
    s.buffered = { bytes: new Uint8Array(0), mutable: true };
    if (!eos) return;
    if (s.trailersAdded && s.trailers) this.forwardTrailers(d);
    else s.forwarded.complete = true;
  }

  private forwardTrailers(d: Dir): void {
    const s = this.dir(d);
    const { strings, bytes } = snapshot(s.trailers ?? new HeaderMap());
    s.forwarded.trailers = strings;
    s.forwarded.trailerBytes = bytes;
    s.forwarded.complete = true;
  }

  /**
   * Calls a filter callback and returns the status Envoy reads, or null when the stream was
   * ended by a VM failure. A VM that failed earlier is not called (cpp-host CHECK_FAIL).
   */
  private invoke(phase: PhaseName, name: string, args: number[], kind: "headers" | "data" | "trailers", eos?: boolean): string | null {
    const vm = this.env.vm;
    if (vm.failure !== null) return this.failStream();
    if (!vm.has(name)) {
      this.phases.push({ phase, ...(eos === undefined ? {} : { endOfStream: eos }), result: "Continue" });
      return "Continue";
    }
    vm.stopNextIteration = false;
    const raw = vm.call(name, this.ctx, args);
    const forced = vm.stopNextIteration;
    vm.stopNextIteration = false;
    if (raw === null || vm.failure !== null) {
      // cpp-host CHECK_FAIL after the call: what Envoy reads once the VM failed (also when the
      // trap was in a nested call, such as malloc inside a hostcall, and the callback returned).
      const closed = { headers: "StopAllIterationAndWatermark", data: "StopIterationNoBuffer", trailers: "StopIteration" }[kind];
      this.phases.push({ phase, ...(eos === undefined ? {} : { endOfStream: eos }), result: this.env.failOpen ? "Continue" : closed });
      return this.failStream();
    }
    const status =
      kind === "headers" ? normaliseHeadersStatus(raw, forced) : kind === "data" ? normaliseDataStatus(raw, forced) : normaliseTrailersStatus(raw, forced);
    this.phases.push({ phase, ...(eos === undefined ? {} : { endOfStream: eos }), result: status });
    return status;
  }

  private callVoid(phase: PhaseName, name: string): void {
    const vm = this.env.vm;
    if (vm.failure !== null) return;
    this.phases.push({ phase });
    if (vm.has(name)) vm.call(name, this.ctx, [this.ctx.id]);
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
        this.localResponse = {
          status: 503,
          body: "",
          bodyBytes: new Uint8Array(0),
          headers: [],
          details: "wasm_fail_stream",
          grpcStatus: 14,
        };
        const headers = new HeaderMap([[":status", "503"]]);
        this.resp.forwarded = { ...emptyForwarded(), headers: headers.toArray(), headerBytes: headers.toBytes(), complete: true };
      }
      this.resp.closed = true;
    }
    return null;
  }

  private applyPending(): void {
    const { reset, localReply } = this.pending;
    const continues = [...this.pending.continue];
    this.pending = { continue: new Set(), reset: false, localReply: null };
    if (localReply) this.applyLocalReply(localReply);
    if (reset) {
      this.stopped = "reset";
      this.req.closed = this.resp.closed = true;
    }
    for (const d of continues) this.resume(d);
  }

  /**
   * Envoy sendLocalReply(): before response headers exist it goes through this filter's own
   * response callbacks; once the filter holds response headers it replaces them directly; after
   * response headers went downstream the stream can only be reset.
   */
  private applyLocalReply(reply: LocalReplyRequest): void {
    if (this.stopped === "reset" || this.stopped === "vm_failed") return;
    this.localResponse = {
      status: reply.status,
      body: decoder.decode(reply.body),
      bodyBytes: reply.body,
      headers: reply.headers,
      details: reply.details,
      grpcStatus: reply.grpcStatus,
    };
    this.req.closed = true;
    this.req.iteration = "continue";
    if (this.resp.forwarded.headers !== null) {
      this.stopped = "reset";
      this.resp.closed = true;
      return;
    }
    this.stopped = "local_response";
    const headers = new HeaderMap([[":status", String(reply.status)], ...reply.headers]);
    if (reply.body.length > 0) {
      headers.replace("content-length", String(reply.body.length));
      if (headers.getFirst("content-type") === undefined) headers.add("content-type", "text/plain");
    }
    if (this.resp.started) {
      this.resp.headers = headers;
      this.resp.headersLive = false;
      this.resp.iteration = "continue";
      this.resp.forwarded = { ...emptyForwarded(), headers: headers.toArray(), headerBytes: headers.toBytes(), body: reply.body, complete: true };
      this.resp.closed = true;
      return;
    }
    this.onHeaders("response", headers, reply.body.length === 0);
    if (reply.body.length > 0) this.onBody("response", reply.body, true);
  }

  private requestAttribute(path: string[]): Uint8Array | undefined {
    const map = this.readableMap(MapType.RequestHeaders);
    if (!map) return undefined;
    const one = (name: string) => map.getFirst(name);
    const fullPath = one(":path");
    const q = fullPath?.indexOf("?") ?? -1;
    const simple: Record<string, string | undefined> = {
      path: fullPath,
      url_path: fullPath === undefined ? undefined : q < 0 ? fullPath : fullPath.slice(0, q),
      query: fullPath === undefined ? undefined : q < 0 ? "" : fullPath.slice(q + 1),
      host: one(":authority"),
      scheme: one(":scheme"),
      method: one(":method"),
      referer: one("referer"),
      useragent: one("user-agent"),
      id: one("x-request-id"),
    };
    if (path.length === 1 && path[0] in simple) return encode(simple[path[0]]);
    if (path[0] === "headers") return headerAttribute(map, path.slice(1));
    return undefined;
  }

  private responseAttribute(path: string[]): Uint8Array | undefined {
    if (!this.resp.started) return undefined;
    if (path.length === 1 && path[0] === "code") {
      const code = Number(this.resp.headers.getFirst(":status"));
      if (!Number.isInteger(code)) return undefined;
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, BigInt(code), true);
      return out;
    }
    if (path.length === 1 && path[0] === "code_details") return encode(this.localResponse?.details ?? "via_upstream");
    if (path[0] === "headers") {
      const map = this.readableMap(MapType.ResponseHeaders);
      return map ? headerAttribute(map, path.slice(1)) : undefined;
    }
    if (path[0] === "trailers") {
      const map = this.readableMap(MapType.ResponseTrailers);
      return map ? headerAttribute(map, path.slice(1)) : undefined;
    }
    return undefined;
  }
}

/** A header map attribute: the whole map as pairs, or one header with values comma-joined. */
function headerAttribute(map: HeaderMap, path: string[]): Uint8Array | undefined {
  if (path.length === 0) {
    const names = [...new Set(map.toArray().map(([k]) => k))];
    return encodePairs(names.map((n) => [n, map.getAll(n).join(",")]));
  }
  if (path.length !== 1) return undefined;
  const values = map.getAll(path[0]);
  return values.length === 0 ? undefined : encode(values.join(","));
}

function encode(s: string | undefined): Uint8Array | undefined {
  return s === undefined ? undefined : new TextEncoder().encode(s);
}

function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
}

function message(d: Direction): Message | null {
  if (d.forwarded.headers === null) return null;
  return {
    headers: d.forwarded.headers,
    headerBytes: d.forwarded.headerBytes ?? [],
    body: decoder.decode(d.forwarded.body),
    bodyBytes: d.forwarded.body,
    trailers: d.forwarded.trailers ?? [],
    trailerBytes: d.forwarded.trailerBytes ?? [],
  };
}


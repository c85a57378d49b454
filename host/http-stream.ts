// One HTTP stream through one Wasm filter, in Envoy's order and with Envoy's filter-manager
// rules (source/extensions/common/wasm/context.cc decode*/encode*, cpp-host context.cc):
//   on_context_create -> request headers -> body* -> trailers? -> response headers -> body* ->
//   trailers? -> on_log -> on_done -> on_delete.
// This file is what a test drives (the phases as input, the result) and what hostcalls see of the
// stream; the layers below it: filter-manager.ts (pause, buffering, forwarding), stream-requests.ts
// (continue, reset and local replies, applied after the callback that asked), stream-callbacks.ts
// (calling the filter, VM failures), stream-state.ts (what the stream keeps).

import { randomUUID } from "node:crypto";
import { BufferType, MapType, StreamType, WasmResult } from "./abi/enums.js";
import type { BodyBuffer, LocalReplyRequest, StreamHost } from "./context.js";
import type { Forwarded, ForwardedState } from "./forwarded.js";
import { FilterManager } from "./filter-manager.js";
import { HeaderMap, type HeaderInput } from "./header-map.js";
import { requestKind } from "./local-reply.js";
import type { Phase, RequestResult } from "./results.js";
import { flushPosted } from "./vm.js";
import { StreamAttributes, type AttributeStream } from "./stream-attributes.js";
import { EMPTY_BODY, message, toBytes } from "./stream-direction.js";
import type { StreamEnvironment } from "./stream-state.js";

export type { Forwarded };
export { DEFAULT_BUFFER_LIMIT_BYTES, type StreamEnvironment } from "./stream-state.js";

export class HttpStream extends FilterManager implements StreamHost {
  /** request.time: when the stream was created. */
  private readonly createdAtNs: bigint;
  /** When the request's last byte arrived (request.duration), or null before. */
  private requestCompleteNs: bigint | null = null;
  /** Built on the first get_property/set_property. */
  private attributeSource: StreamAttributes | null = null;
  private completed = false;
  private deleted = false;

  constructor(env: StreamEnvironment) {
    super(env);
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
   * What forwarded() shows, without building its public view (an object per direction, kept up to
   * date): the header maps as passed on and whether the direction is complete. For a chain that
   * streams (the dev proxy), which reads each header map once, as text, when it passes it on.
   */
  passedOn(direction: "request" | "response"): Readonly<Pick<ForwardedState, "headers" | "trailers" | "complete">> {
    return direction === "request" ? this.req.forwarded : this.resp.forwarded;
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
      httpCalls: this.ctx.httpCalls.map((c) => ({ ...c })),
    };
  }

  /**
   * A guard stopped a callback of this stream's VM mid-operation (deadline.ts runGuarded) and the
   * VM failed. If the callback was one of this stream's, the host lost its place in the stream,
   * which ends here: fail closed answers 503 as after a trap; fail open resets the stream (what
   * the stopped callback would have passed on is unknown); a stop inside the end of the stream
   * finishes deleting the context. A root callback's stop (a callout answer) leaves the stream
   * as a trap there would. Returns whether the stream ended.
   */
  endIfItsCallbackStopped(): boolean {
    if (!this.callbackRunning) return false;
    this.callbackRunning = false;
    this.recordStoppedCallback();
    this.pendingContinues = null;
    this.pendingReset = false;
    this.pendingLocalReply = null;
    this.accessLogPhase = false;
    if (!this.env.failOpen) this.failStream();
    else if (this.stopped === null) {
      this.stopped = "reset";
      this.req.closed = this.resp.closed = true;
    }
    if (this.completed) this.finishDestroy();
    return true;
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
        requestDurationNs: () => (this.requestCompleteNs === null ? null : this.requestCompleteNs - this.createdAtNs),
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

  setProperty(rawPath: string, value: Uint8Array, readonly?: boolean): WasmResult {
    return this.attributes.setProperty(rawPath, value, readonly);
  }

  // ---- Operations: the phases as Envoy's decode*/encode* calls deliver them --------------

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
    if (endOfStream) this.requestReceived();
    this.onCreate();
    const map = new HeaderMap(headers, "requestHeaders");
    if (this.env.connectionManagerHeaders) {
      // conn_manager_utility.cc mutateRequestHeaders (defaults: not an edge proxy, request ids
      // generated): set before the filter chain runs, only when absent.
      if (map.getFirst("x-forwarded-proto") === undefined) map.add("x-forwarded-proto", map.getFirst(":scheme") ?? "http");
      if (map.getFirst("x-request-id") === undefined) map.add("x-request-id", randomUUID());
    }
    this.requestKind = requestKind(map);
    this.onHeaders("request", map, endOfStream);
  }

  private decodeData(chunk: string | Uint8Array, endOfStream: boolean): void {
    if (endOfStream) this.requestReceived();
    const bytes = toBytes(chunk);
    this.received.request += bytes.length;
    this.onBody("request", bytes, endOfStream);
  }

  private decodeTrailers(trailers: ReadonlyArray<HeaderInput>): void {
    this.requestReceived();
    this.onTrailers("request", [...trailers]);
  }

  /** The request's last byte arrived (Envoy maybeEndDecode: onLastDownstreamRxByteReceived, before the filters). */
  private requestReceived(): void {
    this.requestCompleteNs ??= this.env.vm.clock.realtimeNs();
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
    this.finishDestroy();
  }

  private finishDestroy(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.env.vm.contexts.delete(this.ctx.id);
    this.env.onFinished(this);
  }
}

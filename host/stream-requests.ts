// What a callback asked for on its stream (proxy_continue_stream, proxy_close_stream,
// proxy_send_local_response), applied after the callback returns as Envoy defers them, and the
// local replies the filter manager sends itself (payload too large).

import type { LocalReplyRequest } from "./context.js";
import { prepareLocalReply } from "./local-reply.js";
import type { HeaderMap } from "./header-map.js";
import { ForwardedState } from "./forwarded.js";
import type { LocalResponse } from "./results.js";
import { StreamCallbacks } from "./stream-callbacks.js";
import type { Dir } from "./stream-direction.js";
import { decodeText, EMPTY_BYTES, encodeText } from "./text.js";

export abstract class StreamRequests extends StreamCallbacks {
  protected pendingContinues: Dir[] | null = null;
  protected pendingReset = false;
  protected pendingLocalReply: LocalReplyRequest | null = null;

  // The filter manager's steps a request leads to (filter-manager.ts).
  protected abstract onHeaders(d: Dir, headers: HeaderMap, eos: boolean): void;
  protected abstract onBody(d: Dir, chunk: Uint8Array, eos: boolean): void;
  protected abstract resume(d: Dir): void;

  /**
   * Envoy runs the reset close_stream asked for right after the VM call (an after-VM-call
   * action), before the filter manager passes anything on: what the callback saw goes nowhere.
   */
  protected resetFirst(): boolean {
    if (!this.pendingReset) return false;
    this.applyPending();
    return true;
  }

  protected applyPending(): void {
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
   * Envoy requestDataTooLarge()/responseDataTooLarge() when not streaming: a local reply 413
   * "Payload Too Large" (request_payload_too_large) or 500 (response_payload_too_large); once the
   * response headers went downstream the stream is reset instead.
   */
  protected payloadTooLarge(d: Dir): void {
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

  /**
   * Envoy sendLocalReply(): before response headers exist it goes through this filter's own
   * response callbacks; once the filter holds response headers it replaces them directly; after
   * response headers went downstream the stream can only be reset.
   */
  protected applyLocalReply(reply: LocalReplyRequest): void {
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

  /** result().localResponse: built once per local reply, so every result() shares it. */
  protected publicLocalResponse(): LocalResponse | null {
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

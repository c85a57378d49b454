// The filter manager's model for one Wasm filter on an HTTP stream (Envoy filter_manager.cc, as
// context.cc decode*/encode* drive it): headers, body and trailers of each direction reach the
// filter in order; a pause (StopAllIteration) holds the rest of that direction until
// continue_stream; bodies are buffered for the filter (StopIterationAndBuffer/Watermark) up to the
// buffer limit; what the filter passes on is forwarded, and a stale content-length is reported.

import { concat } from "./imports/buffers.js";
import type { BodyBuffer } from "./context.js";
import { HeaderMap, type HeaderInput } from "./header-map.js";
import { CALLBACKS, type Dir } from "./stream-direction.js";
import { StreamRequests } from "./stream-requests.js";
import { EMPTY_BYTES } from "./text.js";

export abstract class FilterManager extends StreamRequests {
  protected onHeaders(d: Dir, headers: HeaderMap, eos: boolean): void {
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

  protected onBody(d: Dir, chunk: Uint8Array, eos: boolean): void {
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

  protected deliverBody(d: Dir, chunk: Uint8Array, eos: boolean): void {
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

  protected onTrailers(d: Dir, trailers: HeaderInput[]): void {
    const s = this.dir(d);
    if (s.closed || !s.started || s.forwarded.complete) return;
    s.eosReceived = true;
    if (s.iteration === "stoppedAll") {
      s.heldTrailers = trailers;
      return;
    }
    this.deliverTrailers(d, trailers);
  }

  protected deliverTrailers(d: Dir, trailers: HeaderInput[]): void {
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
  protected resume(d: Dir): void {
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

  protected forwardHeaders(d: Dir, eos: boolean): void {
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
  protected markComplete(d: Dir): void {
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
  protected forwardBody(d: Dir, eos: boolean): void {
    const s = this.dir(d);
    // The buffer's bytes are never changed in place, and the buffer starts afresh: hand them over.
    s.forwarded.appendBody(s.buffered.bytes);
    s.buffered = { bytes: EMPTY_BYTES, mutable: true };
    if (!eos) return;
    if (s.trailersAdded && s.trailers) this.forwardTrailers(d);
    else this.markComplete(d);
  }

  protected forwardTrailers(d: Dir): void {
    const s = this.dir(d);
    s.forwarded.setTrailers(s.trailers ?? new HeaderMap([], d === "request" ? "requestTrailers" : "responseTrailers"));
    this.markComplete(d);
  }
}

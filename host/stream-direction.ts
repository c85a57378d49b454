// What the filter manager keeps for one direction of an HTTP stream (request or response), the
// filter callbacks of each direction, and the message that direction passed on.

import type { BodyBuffer } from "./context.js";
import { ForwardedState } from "./forwarded.js";
import type { HeaderInput, HeaderMap } from "./header-map.js";
import type { Message, PhaseName } from "./results.js";
import { decodeText, EMPTY_BYTES, encodeText } from "./text.js";

export type Dir = "request" | "response";
export const EMPTY_BODY: BodyBuffer = { bytes: EMPTY_BYTES, mutable: false };

/** A filter callback: its export, and its name in the phases of a result. */
export interface Callback {
  name: string;
  phase: PhaseName;
}

export const CALLBACKS: Record<Dir, Record<"headers" | "body" | "trailers", Callback>> = {
  request: {
    headers: { name: "proxy_on_request_headers", phase: "request_headers" },
    body: { name: "proxy_on_request_body", phase: "request_body" },
    trailers: { name: "proxy_on_request_trailers", phase: "request_trailers" },
  },
  response: {
    headers: { name: "proxy_on_response_headers", phase: "response_headers" },
    body: { name: "proxy_on_response_body", phase: "response_body" },
    trailers: { name: "proxy_on_response_trailers", phase: "response_trailers" },
  },
};

/** What cpp-host's CHECK_FAIL makes Envoy read from a callback of a VM that failed in it. */
export const FAILED_STATUS = { headers: "StopAllIterationAndWatermark", data: "StopIterationNoBuffer", trailers: "StopIteration" } as const;

/** What the filter manager knows about one direction of the stream. */
export class Direction {
  started = false;
  /** Set when the headers arrive (started). */
  headers: HeaderMap | null = null;
  /** Envoy holds a pointer to the map (request_headers_ etc.) only while it is current. */
  headersLive = false;
  trailers: HeaderMap | null = null;
  trailersLive = false;
  /** Trailers created by the plugin in the last body callback (getMap addDecodedTrailers). */
  trailersAdded = false;
  iteration: "continue" | "stoppedAll" | "stoppedSingle" = "continue";
  /** Data the filter manager buffers for this filter (StopIterationAndBuffer/Watermark). */
  buffered: BodyBuffer = { bytes: EMPTY_BYTES, mutable: true };
  bufferingBody = false;
  /** The body buffer of the current callback (request_body_buffer_). */
  currentBody: BodyBuffer | null = null;
  /** Input that arrived while headers were paused (StopAllIteration): not shown to the filter. */
  heldBody: Uint8Array | null = null;
  heldEos = false;
  heldTrailers: HeaderInput[] | null = null;
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
  forwarded = new ForwardedState();

  clearHeld(): void {
    this.heldBody = null;
    this.heldEos = false;
    this.heldTrailers = null;
  }
}

export function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === "string" ? encodeText(chunk) : chunk;
}

/** What one direction passed on, as a result shows it; null before its headers went on. */
export function message(d: Direction): Message | null {
  if (d.forwarded.headers === null) return null;
  const forwarded = d.forwarded.view();
  return {
    headers: forwarded.headers!,
    headerBytes: forwarded.headerBytes ?? [],
    body: decodeText(forwarded.body),
    bodyBytes: forwarded.body,
    trailers: forwarded.trailers ?? [],
    trailerBytes: forwarded.trailerBytes ?? [],
  };
}


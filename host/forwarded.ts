// What one direction of an HTTP stream passed on (to the upstream, or to the client). Kept as
// header-map snapshots and bytes; the public Forwarded object, with the headers as text and as
// bytes, is built only when someone asks for it (forwarded(), result()). Once built it is kept up
// to date, so whoever holds it sees what the filter passes on later. The body is a list of chunks,
// joined only when read: appending stays linear, and a consumer that streams (the dev proxy)
// takes the chunks as they come, so nothing holds the whole body.

import { HeaderMap, type Header, type HeaderBytes } from "./header-map.js";
import { EMPTY_BYTES } from "./text.js";

/** What one direction passed on: as strings (lossy for bytes that are not UTF-8) and as raw bytes. */
export interface Forwarded {
  headers: Header[] | null;
  headerBytes: HeaderBytes[] | null;
  body: Uint8Array;
  trailers: Header[] | null;
  trailerBytes: HeaderBytes[] | null;
  complete: boolean;
}

export class ForwardedState {
  headers: HeaderMap | null = null;
  private chunks: Uint8Array[] = [];
  /** Every body byte passed on, taken or not: what a content-length must match. */
  bodyBytesPassed = 0;
  trailers: HeaderMap | null = null;
  complete = false;
  private built: Forwarded | null = null;

  /** Built on first read of the view's headerBytes / trailerBytes (undefined: not yet): most readers want only text. */
  private headerBytes: HeaderBytes[] | null | undefined = undefined;
  private trailerBytes: HeaderBytes[] | null | undefined = undefined;

  setHeaders(map: HeaderMap): void {
    this.headers = map.snapshot();
    this.headerBytes = undefined;
    if (this.built) this.built.headers = this.headers.toArray();
  }

  /** The body passed on (and not taken): joined into one array on read. */
  get body(): Uint8Array {
    if (this.chunks.length === 0) return EMPTY_BYTES;
    if (this.chunks.length > 1) this.chunks = [joinChunks(this.chunks, this.chunks.reduce((n, c) => n + c.length, 0))];
    return this.chunks[0];
  }

  /** Appends body bytes the caller hands over (they are not changed afterwards). */
  appendBody(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.bodyBytesPassed += bytes.length;
  }

  /** Hands over the body chunks passed on since the last take; the body no longer holds them. */
  takeBody(): Uint8Array[] {
    if (this.chunks.length === 0) return NO_CHUNKS;
    const taken = this.chunks;
    this.chunks = [];
    return taken;
  }

  setTrailers(map: HeaderMap): void {
    this.trailers = map.snapshot();
    this.trailerBytes = undefined;
    if (this.built) this.built.trailers = this.trailers.toArray();
  }

  markComplete(): void {
    this.complete = true;
    if (this.built) this.built.complete = true;
  }

  /** The public object, built on first use. */
  view(): Forwarded {
    if (this.built) return this.built;
    const state = this;
    let empty: Uint8Array | null = null;
    return (this.built = {
      headers: this.headers?.toArray() ?? null,
      get headerBytes() {
        if (state.headerBytes === undefined) state.headerBytes = state.headers?.toBytes() ?? null;
        return state.headerBytes;
      },
      get body() {
        const body = state.body;
        return body.length > 0 ? body : (empty ??= new Uint8Array(0)); // users get their own empty array
      },
      trailers: this.trailers?.toArray() ?? null,
      get trailerBytes() {
        if (state.trailerBytes === undefined) state.trailerBytes = state.trailers?.toBytes() ?? null;
        return state.trailerBytes;
      },
      complete: this.complete,
    });
  }
}

/** What takeBody hands over when nothing was passed on: one shared, frozen empty list. */
const NO_CHUNKS: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/** The chunks in one Uint8Array, copied once. */
function joinChunks(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

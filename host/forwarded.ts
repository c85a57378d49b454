// What one direction of an HTTP stream passed on (to the upstream, or to the client). Kept as
// header-map snapshots and bytes; the public Forwarded object, with the headers as text and as
// bytes, is built only when someone asks for it (forwarded(), result()). Once built it is kept up
// to date, so whoever holds it sees what the filter passes on later.

import { concat } from "./imports/buffers.js";
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
  body: Uint8Array = EMPTY_BYTES;
  trailers: HeaderMap | null = null;
  complete = false;
  private built: Forwarded | null = null;

  setHeaders(map: HeaderMap): void {
    this.headers = map.snapshot();
    if (this.built) {
      this.built.headers = this.headers.toArray();
      this.built.headerBytes = this.headers.toBytes();
    }
  }

  /** Appends body bytes the caller hands over (they are not changed afterwards). */
  appendBody(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.body = this.body.length === 0 ? bytes : concat(this.body, bytes);
    if (this.built) this.built.body = this.body;
  }

  setTrailers(map: HeaderMap): void {
    this.trailers = map.snapshot();
    if (this.built) {
      this.built.trailers = this.trailers.toArray();
      this.built.trailerBytes = this.trailers.toBytes();
    }
  }

  markComplete(): void {
    this.complete = true;
    if (this.built) this.built.complete = true;
  }

  /** The public object, built on first use. */
  view(): Forwarded {
    return (this.built ??= {
      headers: this.headers?.toArray() ?? null,
      headerBytes: this.headers?.toBytes() ?? null,
      body: this.body.length === 0 ? new Uint8Array(0) : this.body, // users get their own empty array
      trailers: this.trailers?.toArray() ?? null,
      trailerBytes: this.trailers?.toBytes() ?? null,
      complete: this.complete,
    });
  }
}

import { getBufferBytes } from "../hostcalls/buffers";
import { CallStatus, getStatus } from "../hostcalls/callouts";
import { HeaderMap } from "../http/headers";
import { emptyBuffer } from "../runtime/memory";
import { BufferType, MapType } from "../types";
import { decodeUtf8 } from "../utf8";

// @ts-ignore: decorator
@lazy const callResponseHeaders = new HeaderMap(MapType.HttpCallResponseHeaders);
// @ts-ignore: decorator
@lazy const callResponseTrailers = new HeaderMap(MapType.HttpCallResponseTrailers);

/**
 * The answer to an httpCall. Its headers, body and trailers are readable only inside the callback.
 * A call that failed (reset, timeout, no healthy upstream) arrives with no headers: `failed` is true
 * and `failure()` says why (BrokenConnection in Envoy).
 */
export class HttpCallResponse {
  constructor(readonly token: u32, readonly numHeaders: u32, readonly bodySize: u32, readonly numTrailers: u32) {}

  get failed(): bool { return this.numHeaders == 0; }

  /** The `:status` of the response, or 0 when the call failed or the status is not a number. */
  get status(): u32 {
    const status = callResponseHeaders.get(":status");
    if (!status) return 0;
    const parsed = I32.parseInt(status, 10);
    return parsed >= 100 && parsed <= 999 ? <u32>parsed : 0;
  }

  get headers(): HeaderMap { return callResponseHeaders; }
  get trailers(): HeaderMap { return callResponseTrailers; }

  body(): ArrayBuffer {
    const body = this.bodySize ? getBufferBytes(BufferType.HttpCallResponseBody, 0, this.bodySize) : null;
    return body ? body : emptyBuffer();
  }

  bodyString(): string { return decodeUtf8(this.body()); }

  /** Why the call failed, as the host reports it. */
  failure(): CallStatus { return getStatus(); }
}

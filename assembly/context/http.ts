import { Body, requestBody, responseBody } from "../http/body";
import { HeaderMap, requestHeaders, requestTrailers, responseHeaders, responseTrailers } from "../http/headers";
import { closeStream, continueStream, sendLocalResponse } from "../hostcalls/stream";
import { Header, serializePairs } from "../pairs";
import { encodeCached } from "../runtime/encoded";
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus, GrpcStatus, StreamType, WasmResult } from "../types";
import { Context } from "./context";
import { RootContext } from "./root";

/** The default of sendLocalResponse's headers: read only, so one array serves every call. */
// @ts-ignore: decorator
@lazy const NO_HEADERS = new Array<Header>();

/**
 * One HTTP stream through the filter. Envoy calls, in order: onRequestHeaders, onRequestBody*,
 * onRequestTrailers?, onResponseHeaders, onResponseBody*, onResponseTrailers?, onLog, onDone.
 */
export class HttpContext extends Context {
  constructor(id: u32, readonly root: RootContext) {
    super(id);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus { return FilterHeadersStatus.Continue; }
  /** `bodySize` is all that is buffered so far: after a StopIterationAndBuffer it grows with each chunk. */
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus { return FilterDataStatus.Continue; }
  onRequestTrailers(numTrailers: u32): FilterTrailersStatus { return FilterTrailersStatus.Continue; }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus { return FilterHeadersStatus.Continue; }
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus { return FilterDataStatus.Continue; }
  onResponseTrailers(numTrailers: u32): FilterTrailersStatus { return FilterTrailersStatus.Continue; }
  /** The access-log phase, once the stream is complete; Envoy calls it before onDone. */
  onLog(): void {}
  /** The stream is finished; the context is released right after. */
  onDone(): void {}

  get requestHeaders(): HeaderMap { this.activate(); return requestHeaders; }
  get requestTrailers(): HeaderMap { this.activate(); return requestTrailers; }
  get responseHeaders(): HeaderMap { this.activate(); return responseHeaders; }
  get responseTrailers(): HeaderMap { this.activate(); return responseTrailers; }
  get requestBody(): Body { this.activate(); return requestBody; }
  get responseBody(): Body { this.activate(); return responseBody; }

  /**
   * Answers the client without going upstream. Allowed until response headers have gone
   * downstream; the stream stops whatever the callback returns, and the reply passes through
   * this filter's response callbacks.
   */
  sendLocalResponse(status: u32, body: string = "", headers: Header[] = NO_HEADERS, details: string = "", grpcStatus: GrpcStatus = GrpcStatus.None): WasmResult {
    this.activate();
    return sendLocalResponse(status, encodeCached(details), encodeCached(body), serializePairs(headers), grpcStatus);
  }

  /** Lets a paused request continue upstream. */
  resumeRequest(): WasmResult {
    this.activate();
    return continueStream(StreamType.HttpRequest);
  }

  /** Lets a paused response continue downstream. */
  resumeResponse(): WasmResult {
    this.activate();
    return continueStream(StreamType.HttpResponse);
  }

  /** Resets the stream. */
  closeStream(): WasmResult {
    this.activate();
    return closeStream(StreamType.HttpRequest);
  }
}

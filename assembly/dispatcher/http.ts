// HTTP stream callbacks. A stream its root did not take (no HttpContext) continues untouched.
// A stream's context may be shared with its root's other streams (shared-streams.ts): it has the
// stream's id for the length of the callback.
import { enterCallback } from "../context/context";
import { HttpContext } from "../context/http";
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "../types";
import { httpContext } from "./registry";
import { enterStream, leaveStream } from "./shared-streams";

function enterHttp(contextId: u32): HttpContext | null {
  const context = httpContext(contextId);
  if (context) enterCallback(contextId);
  return context;
}

export function onRequestHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
  const context = enterHttp(contextId);
  if (!context) return FilterHeadersStatus.Continue;
  const outer = enterStream(context, contextId);
  const status = context.onRequestHeaders(numHeaders, endOfStream);
  leaveStream(context, outer);
  return status;
}

export function onRequestBody(contextId: u32, bodySize: u32, endOfStream: bool): FilterDataStatus {
  const context = enterHttp(contextId);
  if (!context) return FilterDataStatus.Continue;
  const outer = enterStream(context, contextId);
  const status = context.onRequestBody(bodySize, endOfStream);
  leaveStream(context, outer);
  return status;
}

export function onRequestTrailers(contextId: u32, numTrailers: u32): FilterTrailersStatus {
  const context = enterHttp(contextId);
  if (!context) return FilterTrailersStatus.Continue;
  const outer = enterStream(context, contextId);
  const status = context.onRequestTrailers(numTrailers);
  leaveStream(context, outer);
  return status;
}

export function onResponseHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
  const context = enterHttp(contextId);
  if (!context) return FilterHeadersStatus.Continue;
  const outer = enterStream(context, contextId);
  const status = context.onResponseHeaders(numHeaders, endOfStream);
  leaveStream(context, outer);
  return status;
}

export function onResponseBody(contextId: u32, bodySize: u32, endOfStream: bool): FilterDataStatus {
  const context = enterHttp(contextId);
  if (!context) return FilterDataStatus.Continue;
  const outer = enterStream(context, contextId);
  const status = context.onResponseBody(bodySize, endOfStream);
  leaveStream(context, outer);
  return status;
}

export function onResponseTrailers(contextId: u32, numTrailers: u32): FilterTrailersStatus {
  const context = enterHttp(contextId);
  if (!context) return FilterTrailersStatus.Continue;
  const outer = enterStream(context, contextId);
  const status = context.onResponseTrailers(numTrailers);
  leaveStream(context, outer);
  return status;
}

// HTTP stream callbacks. A stream its root did not take (no HttpContext) continues untouched.
import { enterCallback } from "../context/context";
import { HttpContext } from "../context/http";
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "../types";
import { httpContext } from "./registry";

function enterHttp(contextId: u32): HttpContext | null {
  const context = httpContext(contextId);
  if (context) enterCallback(contextId);
  return context;
}

export function onRequestHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
  const context = enterHttp(contextId);
  return context ? context.onRequestHeaders(numHeaders, endOfStream) : FilterHeadersStatus.Continue;
}

export function onRequestBody(contextId: u32, bodySize: u32, endOfStream: bool): FilterDataStatus {
  const context = enterHttp(contextId);
  return context ? context.onRequestBody(bodySize, endOfStream) : FilterDataStatus.Continue;
}

export function onRequestTrailers(contextId: u32, numTrailers: u32): FilterTrailersStatus {
  const context = enterHttp(contextId);
  return context ? context.onRequestTrailers(numTrailers) : FilterTrailersStatus.Continue;
}

export function onResponseHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
  const context = enterHttp(contextId);
  return context ? context.onResponseHeaders(numHeaders, endOfStream) : FilterHeadersStatus.Continue;
}

export function onResponseBody(contextId: u32, bodySize: u32, endOfStream: bool): FilterDataStatus {
  const context = enterHttp(contextId);
  return context ? context.onResponseBody(bodySize, endOfStream) : FilterDataStatus.Continue;
}

export function onResponseTrailers(contextId: u32, numTrailers: u32): FilterTrailersStatus {
  const context = enterHttp(contextId);
  return context ? context.onResponseTrailers(numTrailers) : FilterTrailersStatus.Continue;
}

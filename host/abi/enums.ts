// Numeric values of the Proxy-Wasm ABI v0.2.1 as proxy-wasm-cpp-host defines them
// (include/proxy-wasm/wasm_vm.h, context_interface.h) and Envoy reads them.

export enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
/** LogLevel::Max in cpp-host; anything above is BAD_ARGUMENT. */
export const MAX_LOG_LEVEL = 5;

export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}
export const MAX_BUFFER_TYPE = BufferType.CallData;

export enum MapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}
export const MAX_MAP_TYPE = MapType.HttpCallResponseTrailers;

export enum StreamType {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3,
}
export const MAX_STREAM_TYPE = StreamType.Upstream;

export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}
export const MAX_METRIC_TYPE = MetricType.Histogram;

/** Envoy's FilterHeadersStatus, as cpp-host hands it to Envoy. */
export const HEADERS_STATUS = [
  "Continue",
  "StopIteration",
  "ContinueAndEndStream",
  "StopAllIterationAndBuffer",
  "StopAllIterationAndWatermark",
] as const;
export type HeadersStatus = (typeof HEADERS_STATUS)[number];

export const DATA_STATUS = [
  "Continue",
  "StopIterationAndBuffer",
  "StopIterationAndWatermark",
  "StopIterationNoBuffer",
] as const;
export type DataStatus = (typeof DATA_STATUS)[number];

export const TRAILERS_STATUS = ["Continue", "StopIteration"] as const;
export type TrailersStatus = (typeof TRAILERS_STATUS)[number];

// cpp-host context.cc convertVmCallResultTo*: a local response (stopNextIteration) forces the
// strongest stop; StopIteration on headers becomes StopAllIterationAndWatermark
// (allow_on_headers_stop_iteration defaults to false in Envoy); out-of-range values are clamped.
export function normaliseHeadersStatus(raw: number, stopForced: boolean): HeadersStatus {
  const value = raw >>> 0;
  if (stopForced || value > 4 || value === 1) return "StopAllIterationAndWatermark";
  return HEADERS_STATUS[value];
}

export function normaliseDataStatus(raw: number, stopForced: boolean): DataStatus {
  const value = raw >>> 0;
  if (stopForced || value > 3) return "StopIterationNoBuffer";
  return DATA_STATUS[value];
}

export function normaliseTrailersStatus(raw: number, stopForced: boolean): TrailersStatus {
  const value = raw >>> 0;
  if (stopForced || value > 1) return "StopIteration";
  return TRAILERS_STATUS[value];
}

/** WASI errno values cpp-host returns. */
export enum Errno {
  Success = 0,
  Badf = 8,
  Notdir = 20,
  Fault = 21,
  Inval = 28,
  Noent = 44,
  Nosys = 52,
  Notsup = 58,
}

// The shapes a test (or the simulate command) gets back from the host.

import type { LogLevelName } from "./abi/enums.js";
import type { Header, HeaderBytes } from "./header-map.js";

export interface LogEntry {
  level: LogLevelName;
  message: string;
}

export interface Message {
  /** Header names and values as UTF-8 text (bytes that are not UTF-8 read as U+FFFD). */
  headers: Header[];
  /** The same headers as the raw bytes Envoy would pass on. */
  headerBytes: HeaderBytes[];
  /** The body decoded as UTF-8; `bodyBytes` keeps the raw bytes. */
  body: string;
  bodyBytes: Uint8Array;
  trailers: Header[];
  trailerBytes: HeaderBytes[];
}

export interface LocalResponse {
  status: number;
  body: string;
  bodyBytes: Uint8Array;
  /** The extra headers the plugin passed to send_local_response. */
  headers: Header[];
  details: string;
  grpcStatus: number | null;
}

export type PhaseName =
  | "request_headers"
  | "request_body"
  | "request_trailers"
  | "response_headers"
  | "response_body"
  | "response_trailers"
  | "log"
  | "done"
  | "delete";

export interface Phase {
  phase: PhaseName;
  endOfStream?: boolean;
  /** The status as Envoy reads it after cpp-host's normalisation, e.g. "StopAllIterationAndWatermark". */
  result?: string;
}

export interface HttpCallInfo {
  token: number;
  upstream: string;
  headers: Header[];
  body: string;
  trailers: Header[];
  timeoutMs: number;
}

export interface RequestResult {
  phases: Phase[];
  upstreamRequest: Message | null;
  downstreamResponse: Message | null;
  localResponse: LocalResponse | null;
  stopped: null | "paused" | "local_response" | "vm_failed" | "reset";
  logs: LogEntry[];
  httpCalls: HttpCallInfo[];
}

// What the dev proxy tells the inspector: plain JSON-serialisable objects through one sink
// function, so a filter chain in a worker thread can post them to the main thread as they are.
// Every string that came from a client, an upstream or a filter is cut to a bounded length here,
// so no event grows with what the traffic sends.

import type { Header } from "../../host/index.js";

/** Headers a filter added, replaced or removed between what it got and what it passed on. */
export interface HeaderDiff {
  added: Header[];
  /** [name, value before, value after] */
  replaced: [string, string, string][];
  removed: Header[];
  /** Entries left out past MAX_DIFF_ENTRIES. */
  omitted: number;
}

export interface PhaseTrace {
  /** request_headers, request_body, ..., log, done, delete (the host's PhaseName). */
  phase: string;
  endOfStream?: boolean;
  /** The status Envoy read (e.g. "StopIteration"); none for on_log/on_done/on_delete. */
  result?: string;
  /**
   * Milliseconds of the host operation that ran this callback (shared evenly when one ran several);
   * -1 when it ran outside one (resumed by a callout's answer or another context).
   */
  wasmMs: number;
  /** Set when wasmMs is a share of one host operation that ran several callbacks. */
  shared?: true;
  /** Body phases: the bytes of the chunk delivered. */
  bytes?: number;
  /** Headers and trailers phases: what the filter changed before passing them on. */
  diff?: HeaderDiff;
}

export interface FilterTrace {
  name: string;
  version: number;
  phases: PhaseTrace[];
  /** Body bytes into this filter and passed on by it, per direction. */
  body: { requestIn: number; requestOut: number; responseIn: number; responseOut: number };
  logs: { level: string; message: string }[];
  localReply: { status: number; details: string; body: string; headers: Header[] } | null;
  /** The VM failure as the host reports it (Envoy's message, with a source location when the host has one). */
  trap: { phase: string; message: string } | null;
  callouts: CalloutTrace[];
  /** How this filter ended the exchange, if it did: local_response, vm_failed, reset. */
  stopped: string | null;
}

export interface CalloutTrace {
  cluster: string;
  method: string;
  path: string;
  /** The answer's :status, or null for a failed call (no URL, connection error, timeout). */
  status: number | null;
  ms: number;
  error?: string;
}

export interface RequestStart {
  type: "request-start";
  id: string;
  at: number;
  method: string;
  path: string;
  filters: string[];
}

export interface RequestEnd {
  type: "request-end";
  id: string;
  at: number;
  method: string;
  path: string;
  status: number | null;
  durationMs: number;
  endedBy: { filter: string; how: string } | null;
  error?: string;
  filters: FilterTrace[];
}

/** A callout that answered after its request had ended. */
export interface LateCallout {
  type: "callout";
  requestId: string;
  filter: string;
  callout: CalloutTrace;
}

/** One VM's linear memory at one moment. */
export interface MemorySample {
  type: "memory";
  /** "add-header v1" (" w2" for the third emulated worker). */
  vm: string;
  filter: string;
  at: number;
  pages: number;
}

export type InspectorEvent = RequestStart | RequestEnd | LateCallout | MemorySample;
export type InspectorSink = (event: InspectorEvent) => void;

export const MAX_TEXT = 1024;
export const MAX_DIFF_ENTRIES = 100;
export const MAX_LOGS_PER_FILTER = 50;
export const MAX_PHASES_PER_FILTER = 200;
export const MAX_CALLOUTS_PER_FILTER = 20;

/** A string cut to `max` characters, saying how much was left out. */
export function clip(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

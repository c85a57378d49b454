// What one exchange through the dev proxy did, as plain JSON (a RecordedExchange): taps on the
// chain's inputs (the client's request, the upstream's response) and on its ends (what went
// upstream, what went to the client), and at the end each filter's phases, header changes, local
// reply and callouts. Bodies are kept up to the buffer limit. Nothing here touches a socket or a
// file, so it can run where the chain runs and post its record to whoever writes the file.

import type { FilterOutcome, ExchangeEnds } from "../exchange.js";
import type { ResponseSink } from "../upstream.js";
import { valuesByName } from "../headers.js";
import type { Header, Plugin } from "../../host/index.js";
import type { HeaderChange, RecordedExchange, RecordedFilterRun, RecordedMessage } from "../../host/recording.js";
import { encodeBody } from "../../host/recording.js";
import type { CalloutAnswers } from "./callout-answers.js";

/** Phases and logs kept per filter (a body in many chunks has a phase per chunk); what is left out is counted. */
const MAX_ENTRIES = 1000;
const MAX_LOG_CHARS = 4096;

/** One message (headers, body, trailers) as it passes, its body kept up to `limit` bytes. */
export class MessageTap {
  headers: Header[] | null = null;
  trailers: Header[] | null = null;
  /** Whether the end of the message was seen (a client or upstream can go away before it). */
  private ended = false;
  private readonly kept: Uint8Array[] = [];
  private readonly sizes: number[] = [];
  private keptBytes = 0;
  private size = 0;

  constructor(private readonly limit: number) {}

  // Copies: a list handed on may be changed by whoever gets it next.
  head(headers: Header[], endOfStream: boolean): void {
    this.headers = headers.map(([k, v]) => [k, v]);
    this.ended ||= endOfStream;
  }

  tail(trailers: Header[]): void {
    this.trailers = trailers.map(([k, v]) => [k, v]);
    this.ended = true;
  }

  body(chunk: Uint8Array, endOfStream = false): void {
    this.ended ||= endOfStream;
    if (chunk.length === 0) return;
    this.size += chunk.length;
    if (this.sizes.length <= 1000) this.sizes.push(chunk.length);
    const room = this.limit - this.keptBytes;
    if (room > 0) {
      // A copy: the caller's buffer is reused (a socket's) or taken by the next filter.
      const part = chunk.slice(0, room);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
  }

  record(): RecordedMessage | null {
    if (this.headers === null) return null;
    const body = encodeBody(this.kept, this.limit);
    if (this.size > this.keptBytes) body.size = this.size;
    if (this.sizes.length > 1 && this.sizes.length <= 1000) body.chunks = this.sizes;
    else delete body.chunks;
    return { headers: this.headers, body, trailers: this.trailers, ...(this.ended ? {} : { incomplete: true as const }) };
  }
}

/** The inputs of an Exchange that request.ts calls: the client's side and the upstream's (ResponseSink). */
export interface ExchangeInput extends ResponseSink {
  requestHeaders(headers: Header[], endOfStream: boolean): void;
  requestBody(chunk: Uint8Array, endOfStream: boolean): void;
  requestTrailers(trailers: Header[]): void;
}

export class ExchangeCapture {
  private readonly startedAt = new Date().toISOString();
  private readonly started = performance.now();
  private readonly request: MessageTap;
  private readonly upstreamRequest: MessageTap;
  private readonly upstreamResponse: MessageTap;
  private readonly response: MessageTap;

  constructor(
    private readonly limit: number,
    private readonly plugins: Plugin[],
    private readonly answers: CalloutAnswers,
    private readonly connection: { source: string; destination: string },
  ) {
    this.request = new MessageTap(limit);
    this.upstreamRequest = new MessageTap(limit);
    this.upstreamResponse = new MessageTap(limit);
    this.response = new MessageTap(limit);
  }

  /** The exchange's inputs, recorded on their way in. */
  input(to: ExchangeInput): ExchangeInput {
    return {
      requestHeaders: (h, eos) => (this.request.head(h, eos), to.requestHeaders(h, eos)),
      requestBody: (b, eos) => (this.request.body(b, eos), to.requestBody(b, eos)),
      requestTrailers: (t) => (this.request.tail(t), to.requestTrailers(t)),
      responseHeaders: (h, eos) => (this.upstreamResponse.head(h, eos), to.responseHeaders(h, eos)),
      responseBody: (b, eos) => (this.upstreamResponse.body(b, eos), to.responseBody(b, eos)),
      responseTrailers: (t) => (this.upstreamResponse.tail(t), to.responseTrailers(t)),
    };
  }

  /** The exchange's ends, recorded on their way out. */
  ends(to: ExchangeEnds): ExchangeEnds {
    return {
      abortUpstream: () => to.abortUpstream(),
      reset: (filter) => to.reset(filter),
      upstreamHeaders: (h, eos, len) => (this.upstreamRequest.head(h, eos), to.upstreamHeaders(h, eos, len)),
      upstreamBody: (b, eos) => (this.upstreamRequest.body(b, eos), to.upstreamBody(b, eos)),
      upstreamTrailers: (t) => (this.upstreamRequest.tail(t), to.upstreamTrailers(t)),
      clientHeaders: (h, eos, len) => (this.response.head(h, eos), to.clientHeaders(h, eos, len)),
      clientBody: (b, eos) => (this.response.body(b, eos), to.clientBody(b, eos)),
      clientTrailers: (t) => (this.response.tail(t), to.clientTrailers(t)),
    };
  }

  /** The record of the whole exchange, once every filter finished. */
  finish(
    number: number,
    outcomes: FilterOutcome[],
    status: number | null,
    endedBy: { filter: string; how: string } | null,
    error: string | undefined,
  ): RecordedExchange {
    const request = this.request.record() ?? { headers: [], body: { text: "" }, trailers: null };
    const upstreamRequest = this.upstreamRequest.record();
    const upstreamResponse = this.upstreamResponse.record();
    const n = outcomes.length;
    // What filter k got: what filter k-1 passed on (the client's request for the first), and on
    // the way back what filter k+1 passed on (the upstream's response for the last).
    const requestIn = (k: number) => (k === 0 ? request.headers : (outcomes[k - 1].result.upstreamRequest?.headers ?? null));
    const responseIn = (k: number) => (k === n - 1 ? (upstreamResponse?.headers ?? null) : (outcomes[k + 1].result.downstreamResponse?.headers ?? null));
    const filters: RecordedFilterRun[] = outcomes.map((o, k) => {
      const r = o.result;
      const local = r.localResponse;
      return {
        name: o.filter,
        phases: r.phases.slice(0, MAX_ENTRIES).map((p) => ({ ...p })),
        requestHeaderChanges: headerChanges(requestIn(k), r.upstreamRequest?.headers ?? null),
        responseHeaderChanges: local ? [] : headerChanges(responseIn(k), r.downstreamResponse?.headers ?? null),
        localReply: local && { status: local.status, details: local.details, headers: local.headers, body: encodeBody([local.bodyBytes], this.limit) },
        stopped: r.stopped,
        callouts: r.httpCalls.map((c) => ({
          cluster: c.upstream,
          headers: c.headers,
          body: encodeBody([Buffer.from(c.body, "utf8")], this.limit),
          timeoutMs: c.timeoutMs,
          answer: this.answers.take(this.plugins[k], c.token),
        })),
        logs: r.logs.slice(0, MAX_ENTRIES).map((l) => ({ level: l.level, message: l.message.slice(0, MAX_LOG_CHARS) })),
        ...(r.phases.length > MAX_ENTRIES || r.logs.length > MAX_ENTRIES ? { omitted: { phases: Math.max(0, r.phases.length - MAX_ENTRIES), logs: Math.max(0, r.logs.length - MAX_ENTRIES) } } : {}),
      };
    });
    return {
      exchange: number,
      startedAt: this.startedAt,
      durationMs: Math.round(performance.now() - this.started),
      connection: this.connection,
      request,
      filters,
      upstream: upstreamRequest ? { request: upstreamRequest, response: upstreamResponse } : null,
      response: this.response.record(),
      status,
      endedBy,
      ...(error ? { error } : {}),
    };
  }
}

/** Per header name, the values before and after a filter, where they differ (names compared lower-cased). */
export function headerChanges(before: Header[] | null, after: Header[] | null): HeaderChange[] {
  const b = valuesByName(before ?? []);
  const a = valuesByName(after ?? []);
  const out: HeaderChange[] = [];
  for (const name of new Set([...b.keys(), ...a.keys()])) {
    const was = b.get(name) ?? [];
    const now = a.get(name) ?? [];
    if (was.length !== now.length || was.some((v, i) => v !== now[i])) out.push({ name, before: was, after: now });
  }
  return out;
}

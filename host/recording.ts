// A dev proxy recording (`proxy-wasm-as run --record FILE`): JSON Lines, one header line naming
// the format, its version and the filters, then one line per exchange. This file is the format's
// one definition: the types, a reader that checks every line (a bad, truncated or hostile file
// gets one error naming the line, and no line longer than MAX_LINE_BYTES is ever held), and
// `loadRecording`, which turns exchanges into RequestSpecs for the testing API.

import { closeSync, openSync, readSync } from "node:fs";
import type { Header } from "./header-map.js";
import type { HttpCallAnswer, RequestSpec } from "./plugin-options.js";

export const RECORDING_FORMAT = "proxy-wasm-as recording";
export const RECORDING_VERSION = 1;
/** Longest line read: four bodies at a 4 MiB buffer limit, base64, and room for callouts. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** A body as UTF-8 text when it is valid UTF-8, else base64; `size` when only the first bytes were kept. */
export type RecordedBody = ({ text: string } | { base64: string }) & {
  /** Bytes the body really had, when more than the recording kept (the buffer limit). */
  size?: number;
  /** Sizes of the chunks it arrived in, when more than one. */
  chunks?: number[];
};

export interface RecordedMessage {
  headers: Header[];
  body: RecordedBody;
  trailers: Header[] | null;
  /** The message never ended: the client or the upstream went away first. */
  incomplete?: true;
}

export interface RecordedFilter {
  name: string;
  path: string;
  sha256: string;
  configuration: RecordedBody | null;
  rootId: string | null;
  vmId: string | null;
}

export interface RecordingHeader {
  format: typeof RECORDING_FORMAT;
  version: number;
  startedAt: string;
  bufferLimitBytes: number;
  filters: RecordedFilter[];
  /** The cluster names http_call could use (--cluster). */
  clusters: string[];
}

export interface HeaderChange {
  name: string;
  before: string[];
  after: string[];
}

export type RecordedCalloutAnswer = { headers: Header[]; body: RecordedBody; trailers: Header[] } | "fail" | "timeout" | null;

export interface RecordedCallout {
  cluster: string;
  headers: Header[];
  body: RecordedBody;
  timeoutMs: number;
  /** null: still unanswered when the exchange ended. */
  answer: RecordedCalloutAnswer;
}

export interface RecordedLocalReply {
  status: number;
  details: string;
  headers: Header[];
  body: RecordedBody;
}

export interface RecordedFilterRun {
  name: string;
  phases: { phase: string; endOfStream?: boolean; result?: string }[];
  requestHeaderChanges: HeaderChange[];
  responseHeaderChanges: HeaderChange[];
  localReply: RecordedLocalReply | null;
  stopped: string | null;
  callouts: RecordedCallout[];
  logs: { level: string; message: string }[];
  /** Phases and logs past the first 1,000 of each, left out (log messages are cut at 4,096 characters). */
  omitted?: { phases: number; logs: number };
}

export interface RecordedExchange {
  exchange: number;
  startedAt: string;
  durationMs: number;
  connection: { source: string; destination: string };
  /** The request as the first filter got it (after the proxy's intake: pseudo-headers, x-request-id). */
  request: RecordedMessage;
  filters: RecordedFilterRun[];
  /** What went to the upstream and what it answered; null when no request went upstream. */
  upstream: { request: RecordedMessage; response: RecordedMessage | null } | null;
  /** What the first filter passed on to the client; null when nothing was (a reset, the client went away). */
  response: RecordedMessage | null;
  /** The status the client got (the proxy answers 502 for a response HTTP/1.1 cannot carry). */
  status: number | null;
  endedBy: { filter: string; how: string } | null;
  error?: string;
}

// ---- bodies ------------------------------------------------------------------------------

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Keeps the first `limit` bytes of `chunks` as text or base64. */
export function encodeBody(chunks: Uint8Array[], limit: number): RecordedBody {
  let size = 0;
  for (const c of chunks) size += c.length;
  const all = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
  const kept = all.subarray(0, Math.min(size, limit));
  let body: RecordedBody;
  try {
    body = { text: strictUtf8.decode(kept) };
  } catch {
    body = { base64: kept.toString("base64") };
  }
  if (size > kept.length) body.size = size;
  const sizes = chunks.map((c) => c.length).filter((n) => n > 0);
  if (sizes.length > 1 && sizes.length <= 1000) body.chunks = sizes;
  return body;
}

export function decodeBody(body: RecordedBody): Uint8Array {
  return "text" in body ? new Uint8Array(Buffer.from(body.text, "utf8")) : new Uint8Array(Buffer.from(body.base64, "base64"));
}

/** The body split as it arrived (one chunk when the sizes are not known or do not add up). */
export function bodyChunks(body: RecordedBody): Uint8Array[] {
  const bytes = decodeBody(body);
  if (bytes.length === 0) return [];
  const sizes = body.chunks;
  if (!sizes || body.size !== undefined || sizes.reduce((a, b) => a + b, 0) !== bytes.length) return [bytes];
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of sizes) out.push(bytes.subarray(at, (at += n)));
  return out;
}

// ---- checking a line -----------------------------------------------------------------------

class Bad extends Error {}

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Bad(`${what} must be an object`);
  return v as Json;
}
function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new Bad(`${what} must be a string`);
  return v;
}
function int(v: unknown, what: string, min = 0): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) throw new Bad(`${what} must be a whole number`);
  return v;
}
function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Bad(`${what} must be a list`);
  return v;
}
function optStr(v: unknown, what: string): string | null {
  return v === null || v === undefined ? null : str(v, what);
}

function headers(v: unknown, what: string): Header[] {
  return list(v, what).map((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "string" || typeof p[1] !== "string") {
      throw new Bad(`${what}[${i}] must be a [name, value] pair of strings`);
    }
    return [p[0], p[1]];
  });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function body(v: unknown, what: string): RecordedBody {
  const o = obj(v, what);
  let b: RecordedBody;
  if (typeof o.text === "string") b = { text: o.text };
  else if (typeof o.base64 === "string" && o.base64.length % 4 === 0 && BASE64.test(o.base64)) b = { base64: o.base64 };
  else throw new Bad(`${what} must have "text" (a string) or "base64" (base64 text)`);
  if (o.size !== undefined) b.size = int(o.size, `${what}.size`);
  if (o.chunks !== undefined) b.chunks = list(o.chunks, `${what}.chunks`).map((n, i) => int(n, `${what}.chunks[${i}]`, 1));
  return b;
}

function message(v: unknown, what: string): RecordedMessage {
  const o = obj(v, what);
  if (o.incomplete !== undefined && o.incomplete !== true) throw new Bad(`${what}.incomplete must be true when present`);
  return {
    headers: headers(o.headers, `${what}.headers`),
    body: body(o.body, `${what}.body`),
    trailers: o.trailers === null ? null : headers(o.trailers, `${what}.trailers`),
    ...(o.incomplete ? { incomplete: true as const } : {}),
  };
}

function calloutAnswer(v: unknown, what: string): RecordedCalloutAnswer {
  if (v === null || v === "fail" || v === "timeout") return v;
  const o = obj(v, what);
  return { headers: headers(o.headers, `${what}.headers`), body: body(o.body, `${what}.body`), trailers: headers(o.trailers, `${what}.trailers`) };
}

function changes(v: unknown, what: string): HeaderChange[] {
  return list(v, what).map((c, i) => {
    const o = obj(c, `${what}[${i}]`);
    const values = (x: unknown, w: string) => list(x, w).map((s, j) => str(s, `${w}[${j}]`));
    return { name: str(o.name, `${what}[${i}].name`), before: values(o.before, `${what}[${i}].before`), after: values(o.after, `${what}[${i}].after`) };
  });
}

function filterRun(v: unknown, what: string): RecordedFilterRun {
  const o = obj(v, what);
  const lr = o.localReply === null ? null : obj(o.localReply, `${what}.localReply`);
  return {
    name: str(o.name, `${what}.name`),
    phases: list(o.phases, `${what}.phases`).map((p, i) => {
      const ph = obj(p, `${what}.phases[${i}]`);
      return {
        phase: str(ph.phase, `${what}.phases[${i}].phase`),
        ...(typeof ph.endOfStream === "boolean" ? { endOfStream: ph.endOfStream } : {}),
        ...(ph.result !== undefined ? { result: str(ph.result, `${what}.phases[${i}].result`) } : {}),
      };
    }),
    requestHeaderChanges: changes(o.requestHeaderChanges, `${what}.requestHeaderChanges`),
    responseHeaderChanges: changes(o.responseHeaderChanges, `${what}.responseHeaderChanges`),
    localReply: lr && {
      status: int(lr.status, `${what}.localReply.status`),
      details: str(lr.details, `${what}.localReply.details`),
      headers: headers(lr.headers, `${what}.localReply.headers`),
      body: body(lr.body, `${what}.localReply.body`),
    },
    stopped: optStr(o.stopped, `${what}.stopped`),
    callouts: list(o.callouts, `${what}.callouts`).map((c, i) => {
      const co = obj(c, `${what}.callouts[${i}]`);
      const w = `${what}.callouts[${i}]`;
      return {
        cluster: str(co.cluster, `${w}.cluster`),
        headers: headers(co.headers, `${w}.headers`),
        body: body(co.body, `${w}.body`),
        timeoutMs: int(co.timeoutMs, `${w}.timeoutMs`),
        answer: calloutAnswer(co.answer, `${w}.answer`),
      };
    }),
    logs: list(o.logs, `${what}.logs`).map((l, i) => {
      const lo = obj(l, `${what}.logs[${i}]`);
      return { level: str(lo.level, `${what}.logs[${i}].level`), message: str(lo.message, `${what}.logs[${i}].message`) };
    }),
    ...(o.omitted !== undefined
      ? { omitted: { phases: int(obj(o.omitted, `${what}.omitted`).phases, `${what}.omitted.phases`), logs: int((o.omitted as Json).logs, `${what}.omitted.logs`) } }
      : {}),
  };
}

function recordingHeader(v: unknown): RecordingHeader {
  const o = obj(v, "the first line");
  if (o.format !== RECORDING_FORMAT) throw new Bad(`not a proxy-wasm-as recording (the first line has no "format": "${RECORDING_FORMAT}")`);
  const version = int(o.version, "version");
  if (version !== RECORDING_VERSION) throw new Bad(`recording version ${version} is not supported (this proxy-wasm-as reads version ${RECORDING_VERSION})`);
  const filters = list(o.filters, "filters").map((f, i) => {
    const fo = obj(f, `filters[${i}]`);
    return {
      name: str(fo.name, `filters[${i}].name`),
      path: str(fo.path, `filters[${i}].path`),
      sha256: str(fo.sha256, `filters[${i}].sha256`),
      configuration: fo.configuration === null ? null : body(fo.configuration, `filters[${i}].configuration`),
      rootId: optStr(fo.rootId, `filters[${i}].rootId`),
      vmId: optStr(fo.vmId, `filters[${i}].vmId`),
    };
  });
  if (filters.length === 0) throw new Bad("filters must name at least one filter");
  const clusters = list(o.clusters, "clusters").map((c, i) => str(c, `clusters[${i}]`));
  return { format: RECORDING_FORMAT, version, startedAt: str(o.startedAt, "startedAt"), bufferLimitBytes: int(o.bufferLimitBytes, "bufferLimitBytes", 1), filters, clusters };
}

function exchange(v: unknown, filterCount: number): RecordedExchange {
  const o = obj(v, "the exchange");
  const filters = list(o.filters, "filters").map((f, i) => filterRun(f, `filters[${i}]`));
  if (filters.length !== filterCount) throw new Bad(`filters has ${filters.length} entries, the recording's header names ${filterCount}`);
  const conn = obj(o.connection, "connection");
  let upstream: RecordedExchange["upstream"] = null;
  if (o.upstream !== null) {
    const u = obj(o.upstream, "upstream");
    upstream = { request: message(u.request, "upstream.request"), response: u.response === null ? null : message(u.response, "upstream.response") };
  }
  let endedBy: RecordedExchange["endedBy"] = null;
  if (o.endedBy !== null && o.endedBy !== undefined) {
    const e = obj(o.endedBy, "endedBy");
    endedBy = { filter: str(e.filter, "endedBy.filter"), how: str(e.how, "endedBy.how") };
  }
  const request = message(o.request, "request");
  if (!request.headers.some(([k]) => k === ":method") || !request.headers.some(([k]) => k === ":path")) throw new Bad("request.headers must have :method and :path");
  return {
    exchange: int(o.exchange, "exchange", 1),
    startedAt: str(o.startedAt, "startedAt"),
    durationMs: int(o.durationMs, "durationMs"),
    connection: { source: str(conn.source, "connection.source"), destination: str(conn.destination, "connection.destination") },
    request,
    filters,
    upstream,
    response: o.response === null ? null : message(o.response, "response"),
    status: o.status === null ? null : int(o.status, "status"),
    endedBy,
    ...(o.error !== undefined ? { error: str(o.error, "error") } : {}),
  };
}

// ---- reading a file ------------------------------------------------------------------------

/** A recording that cannot be read: the message names the file and the line. */
export class RecordingError extends Error {}

/** The file's lines, read in chunks; a line longer than `maxLine` bytes is an error, never held whole. */
function* lines(path: string, maxLine: number): Generator<{ n: number; text: string; last: boolean }> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RecordingError(`${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  }
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    let parts: Buffer[] = [];
    let held = 0;
    let n = 1;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        throw new RecordingError(`${path} line ${n}: ${(e as NodeJS.ErrnoException).code === "EISDIR" ? "a directory, not a recording" : (e as Error).message}`);
      }
      if (got === 0) break;
      let from = 0;
      for (let nl = chunk.indexOf(10, 0); nl >= 0 && nl < got; nl = chunk.indexOf(10, from)) {
        if (held + nl - from > maxLine) throw new RecordingError(`${path} line ${n}: longer than ${maxLine} bytes`);
        parts.push(Buffer.from(chunk.subarray(from, nl)));
        yield { n: n++, text: Buffer.concat(parts).toString("utf8"), last: false };
        parts = [];
        held = 0;
        from = nl + 1;
      }
      held += got - from;
      if (held > maxLine) throw new RecordingError(`${path} line ${n}: longer than ${maxLine} bytes`);
      parts.push(Buffer.from(chunk.subarray(from, got)));
    }
    if (held > 0) yield { n, text: Buffer.concat(parts).toString("utf8"), last: true };
  } finally {
    closeSync(fd);
  }
}

function parseLine(path: string, n: number, text: string, last: boolean): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof SyntaxError ? e.message : "too deeply nested";
    throw new RecordingError(`${path} line ${n}: ${last ? "cut off (the recording ends in the middle of a line)" : `not JSON (${why})`}`);
  }
}

/**
 * Reads a recording one exchange at a time: the header first (`onHeader`), then each exchange.
 * Throws RecordingError naming the line for anything that is not a well-formed version-1 recording.
 */
export function readRecording(path: string, onHeader: (h: RecordingHeader) => void, onExchange: (e: RecordedExchange, line: number) => void, maxLine = MAX_LINE_BYTES): void {
  let header: RecordingHeader | null = null;
  for (const { n, text, last } of lines(path, maxLine)) {
    if (text.trim() === "") continue;
    const value = parseLine(path, n, text, last);
    try {
      if (header === null) onHeader((header = recordingHeader(value)));
      else onExchange(exchange(value, header.filters.length), n);
    } catch (e) {
      if (e instanceof Bad) throw new RecordingError(`${path} line ${n}: ${e.message}`);
      throw e;
    }
  }
  if (header === null) throw new RecordingError(`${path}: empty (not a proxy-wasm-as recording)`);
}

// ---- fixtures for the testing API --------------------------------------------------------

export interface RecordedFixture {
  /** `#3 GET /path`: for test names. */
  name: string;
  /**
   * The exchange as a RequestSpec for `plugin.runHttpRequest`: the request the first filter got,
   * the upstream's recorded answer, and every callout's recorded answer in order. For a recording
   * of one filter this is exactly what the filter saw; for a chain, what the chain's ends saw.
   */
  spec: RequestSpec;
  /** What the dev proxy recorded: assert a new build against it. */
  recorded: RecordedExchange;
  /** The recorded response the client got, decoded: status (null: none), headers, body. */
  expected: { status: number | null; headers: Header[]; body: string; bodyBytes: Uint8Array; localReply: RecordedLocalReply | null };
}

export interface Recording {
  header: RecordingHeader;
  exchanges: RecordedFixture[];
}

function answerOf(a: RecordedCalloutAnswer): HttpCallAnswer {
  if (a === null || a === "fail") return "fail";
  if (a === "timeout") return "timeout";
  return { headers: a.headers, body: decodeBody(a.body), trailers: a.trailers };
}

export function fixtureOf(e: RecordedExchange): RecordedFixture {
  const pseudo = (k: string) => e.request.headers.find(([n]) => n === k)?.[1] ?? "";
  const up = e.upstream?.response ?? null;
  const spec: RequestSpec = {
    requestHeaders: e.request.headers,
    requestBody: bodyChunks(e.request.body),
    ...(e.request.trailers ? { requestTrailers: e.request.trailers } : {}),
    ...(up ? { responseHeaders: up.headers, responseBody: bodyChunks(up.body), ...(up.trailers ? { responseTrailers: up.trailers } : {}) } : {}),
    httpCallResponses: e.filters.flatMap((f) => f.callouts.map((c) => answerOf(c.answer))),
  };
  const bytes = e.response ? decodeBody(e.response.body) : new Uint8Array(0);
  return {
    name: `#${e.exchange} ${pseudo(":method")} ${pseudo(":path")}`,
    spec,
    recorded: e,
    expected: {
      status: e.status,
      headers: e.response?.headers ?? [],
      body: Buffer.from(bytes).toString("utf8"),
      bodyBytes: bytes,
      localReply: e.filters.find((f) => f.localReply)?.localReply ?? null,
    },
  };
}

/**
 * Loads a recording made with `proxy-wasm-as run --record FILE` as test fixtures. Throws a
 * RecordingError naming the line for a file that is not a well-formed recording.
 *
 *   for (const x of loadRecording("tests/bug.jsonl").exchanges)
 *     assert.equal(plugin.runHttpRequest(x.spec).downstreamResponse?.headers..., ...);
 */
export function loadRecording(path: string): Recording {
  let header: RecordingHeader | null = null;
  const exchanges: RecordedFixture[] = [];
  readRecording(path, (h) => (header = h), (e) => exchanges.push(fixtureOf(e)));
  return { header: header!, exchanges };
}

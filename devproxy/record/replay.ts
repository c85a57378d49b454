// Replays recorded exchanges through a chain of plugins on the Node host, with no sockets: the
// dev proxy's own filter-chain driver (Exchange) gets the recorded request; the upstream and the
// callouts are answered with what the recording says they answered. The replay is captured as the
// dev proxy captures an exchange (capture.ts), so diff.ts compares like with like.

import { Exchange, type ChainFilter, type ExchangeEnds } from "../exchange.js";
import { DEFAULT_CALLBACK_DEADLINE_MS } from "../../host/deadline.js";
import { createPlugin, type Plugin } from "../../host/index.js";
import { bodyChunks, decodeBody, type RecordedCalloutAnswer, type RecordedExchange, type RecordedMessage, type RecordingHeader } from "../../host/recording.js";
import { CalloutAnswers } from "./callout-answers.js";
import { ExchangeCapture } from "./capture.js";

export interface ReplayedExchange {
  /** The replay as the dev proxy would have recorded it, with the recorded inputs (request, upstream answer). */
  record: RecordedExchange;
  /** What the replay had to make up (a callout or upstream answer the recording does not have). */
  notes: string[];
  /** The recording kept only the first bytes of a body fed in: bodies out can only be compared on their first bytes. */
  inputCut: boolean;
}

/**
 * Starts one plugin per recorded filter from the given .wasm files (named by `paths` in errors),
 * with the recorded configuration, ids, clusters and buffer limit, and the dev proxy's callback deadline.
 */
export function startChain(header: RecordingHeader, wasm: Uint8Array[], paths: string[]): ChainFilter[] {
  return header.filters.map((f, i) => {
    const plugin = createPlugin(wasm[i], {
      name: f.name,
      rootId: f.rootId ?? undefined,
      vmId: f.vmId ?? undefined,
      configuration: f.configuration ? decodeBody(f.configuration) : undefined,
      clusters: header.clusters,
      bufferLimitBytes: header.bufferLimitBytes,
      callbackDeadlineMs: DEFAULT_CALLBACK_DEADLINE_MS,
    });
    const start = plugin.start();
    if (!start.ok) throw new Error(`${paths[i]} (recorded as ${f.name}) did not start: ${start.error ?? "the plugin did not start"}`);
    return { name: f.name, plugin };
  });
}

function properties(recorded: RecordedExchange): Record<string, string | bigint> {
  const port = (address: string) => BigInt(/:(\d+)$/.exec(address)?.[1] ?? 0);
  return {
    "source.address": recorded.connection.source,
    "source.port": port(recorded.connection.source),
    "destination.address": recorded.connection.destination,
    "destination.port": port(recorded.connection.destination),
  };
}

export function replayExchange(chain: ChainFilter[], recorded: RecordedExchange, limit: number): ReplayedExchange {
  const notes: string[] = [];
  const answered = new CalloutAnswers(limit);
  const capture = new ExchangeCapture(limit, chain.map((f) => f.plugin), answered, recorded.connection);
  let upstreamEnded = false;
  let upstreamAborted = false;
  let status: number | null = null;
  const ends: ExchangeEnds = capture.ends({
    upstreamHeaders: (_h, eos) => (upstreamEnded ||= eos),
    upstreamBody: (_b, eos) => (upstreamEnded ||= eos),
    upstreamTrailers: () => (upstreamEnded = true),
    abortUpstream: () => (upstreamAborted = true),
    clientHeaders: (h) => (status = Number(h.find(([k]) => k === ":status")?.[1]) || null),
    clientBody: () => undefined,
    clientTrailers: () => undefined,
    reset: () => undefined,
  });
  const exchange = new Exchange(chain, properties(recorded), ends);
  const input = capture.input(exchange);
  const answers = recorded.filters.map((f) => f.callouts.map((c) => c.answer));
  const handled = chain.map(() => new Set<number>());

  /** Answers every new callout of this exchange from the recording, and moves the chain along, until nothing moves. */
  const settle = () => {
    for (let round = 0; round < 1000; round++) {
      let progress = exchange.pump();
      chain.forEach((f, k) => {
        const id = exchange.streams[k].id;
        for (const call of f.plugin.pendingHttpCalls()) {
          if (call.contextId !== id || handled[k].has(call.token)) continue;
          handled[k].add(call.token);
          progress = true;
          answer(f.name, f.plugin, call.token, call.upstream, answers[k].shift());
        }
      });
      if (!progress) return;
    }
  };
  const answer = (name: string, plugin: Plugin, token: number, cluster: string, recordedAnswer: RecordedCalloutAnswer | undefined) => {
    if (recordedAnswer === undefined) {
      notes.push(`${name} made a callout to cluster '${cluster}' that the recording does not have: answered as a failure`);
      answered.answered(plugin, token, null);
      plugin.failHttpCall(token);
    } else if (recordedAnswer === null) {
      notes.push(`${name}'s callout to cluster '${cluster}' was not answered in the recording: left unanswered`);
    } else if (recordedAnswer === "fail" || recordedAnswer === "timeout") {
      answered.answered(plugin, token, recordedAnswer === "fail" ? null : "timeout");
      if (recordedAnswer === "fail") plugin.failHttpCall(token);
      else plugin.timeoutHttpCall(token);
    } else {
      const response = { headers: recordedAnswer.headers, body: decodeBody(recordedAnswer.body), trailers: recordedAnswer.trailers };
      answered.answered(plugin, token, response);
      plugin.respondToHttpCall(token, response);
    }
  };

  send(recorded.request, (h, eos) => input.requestHeaders(h, eos), (b, eos) => input.requestBody(b, eos), (t) => input.requestTrailers(t), settle);
  if (upstreamEnded && !upstreamAborted && !exchange.finished) {
    let response = recorded.upstream?.response ?? null;
    if (response === null) {
      notes.push("the request went upstream, which it did not in the recording: answered 503 (no recorded upstream answer)");
      response = { headers: [[":status", "503"], ["content-type", "text/plain"]], body: { text: "no upstream answer in the recording" }, trailers: null };
    }
    send(response, (h, eos) => input.responseHeaders(h, eos), (b, eos) => input.responseBody(b, eos), (t) => input.responseTrailers(t), settle);
  }
  const outcomes = exchange.finish();
  const record = capture.finish(recorded.exchange, outcomes, status, exchange.endedBy, undefined);
  // The inputs as recorded (with the sizes of bodies the recording cut).
  record.request = recorded.request;
  record.startedAt = recorded.startedAt;
  if (record.upstream && recorded.upstream?.response) record.upstream.response = recorded.upstream.response;
  const inputCut = [recorded.request.body, recorded.upstream?.response?.body].some((b) => b?.size !== undefined);
  if (inputCut) notes.push(`the recording kept the first ${limit} bytes of each body (its buffer limit): bodies compared on those`);
  return { record, notes, inputCut };
}

/** Headers, then the body in the chunks it arrived in, then trailers; end_of_stream on the last (unless it never came). */
function send(
  m: RecordedMessage,
  headers: (h: RecordedMessage["headers"], eos: boolean) => void,
  body: (b: Uint8Array, eos: boolean) => void,
  trailers: (t: RecordedMessage["headers"]) => void,
  settle: () => void,
): void {
  const chunks = bodyChunks(m.body);
  // A message that never ended in the recording does not end here either.
  const ends = m.trailers === null && m.incomplete !== true;
  headers(m.headers, chunks.length === 0 && ends);
  settle();
  chunks.forEach((c, i) => {
    body(c, i === chunks.length - 1 && ends);
    settle();
  });
  if (m.trailers !== null) {
    trailers(m.trailers);
    settle();
  }
}

// Replays recorded exchanges through a chain of plugins on the Node host, with no sockets: the
// dev proxy's own filter-chain driver (Exchange) gets the recorded request; the upstream and the
// callouts are answered with what the recording says they answered. What the chain sends to the
// upstream and to the client is collected for comparison (diff.ts).

import { Exchange, type ChainFilter, type ExchangeEnds } from "../exchange.js";
import { createPlugin, type Plugin } from "../../host/index.js";
import {
  bodyChunks,
  decodeBody,
  type RecordedExchange,
  type RecordedLocalReply,
  type RecordedMessage,
  type RecordingHeader,
} from "../../host/recording.js";
import { encodeBody } from "../../host/recording.js";
import { MessageTap } from "./capture.js";

export interface ReplayedExchange {
  upstreamRequest: RecordedMessage | null;
  response: RecordedMessage | null;
  localReplies: (RecordedLocalReply | null)[];
  /** The filter that reset the stream, if one did. */
  reset: string | null;
  /** What the replay had to make up (a callout or upstream answer the recording does not have). */
  notes: string[];
  /** The recording kept only the first bytes of a body fed in: bodies out can only be compared on their first bytes. */
  inputCut: boolean;
}

/** Starts one plugin per recorded filter from the given .wasm files, with the recorded configuration. */
export function startChain(header: RecordingHeader, wasm: (Uint8Array | string)[]): ChainFilter[] {
  return header.filters.map((f, i) => {
    const plugin = createPlugin(wasm[i], {
      name: f.name,
      rootId: f.rootId ?? undefined,
      vmId: f.vmId ?? undefined,
      configuration: f.configuration ? decodeBody(f.configuration) : undefined,
      clusters: header.clusters,
      bufferLimitBytes: header.bufferLimitBytes,
    });
    const start = plugin.start();
    if (!start.ok) throw new Error(`${f.name} (${typeof wasm[i] === "string" ? wasm[i] : "plugin"}) did not start: ${start.error ?? "the plugin did not start"}`);
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
  const upstream = new MessageTap(limit);
  const client = new MessageTap(limit);
  const notes: string[] = [];
  let upstreamEnded = false;
  let upstreamAborted = false;
  let reset: string | null = null;
  const ends: ExchangeEnds = {
    upstreamHeaders: (h, eos) => ((upstream.headers = h), (upstreamEnded ||= eos)),
    upstreamBody: (b, eos) => (upstream.body(b), (upstreamEnded ||= eos)),
    upstreamTrailers: (t) => ((upstream.trailers = t), (upstreamEnded = true)),
    abortUpstream: () => (upstreamAborted = true),
    clientHeaders: (h) => (client.headers = h),
    clientBody: (b) => client.body(b),
    clientTrailers: (t) => (client.trailers = t),
    reset: (filter) => (reset = filter),
  };
  const exchange = new Exchange(chain, properties(recorded), ends);
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
          answer(f, call.token, call.upstream, answers[k].shift());
        }
      });
      if (!progress) return;
    }
  };
  const answer = (f: ChainFilter, token: number, cluster: string, recordedAnswer: RecordedExchange["filters"][number]["callouts"][number]["answer"] | undefined) => {
    const plugin: Plugin = f.plugin;
    if (recordedAnswer === undefined) {
      notes.push(`${f.name} made a callout to cluster '${cluster}' that the recording does not have: answered as a failure`);
      plugin.failHttpCall(token);
    } else if (recordedAnswer === null) {
      notes.push(`${f.name}'s callout to cluster '${cluster}' was not answered in the recording: left unanswered`);
    } else if (recordedAnswer === "fail") plugin.failHttpCall(token);
    else if (recordedAnswer === "timeout") plugin.timeoutHttpCall(token);
    else plugin.respondToHttpCall(token, { headers: recordedAnswer.headers, body: decodeBody(recordedAnswer.body), trailers: recordedAnswer.trailers });
  };

  send(recorded.request, (h, eos) => exchange.requestHeaders(h, eos), (b, eos) => exchange.requestBody(b, eos), (t) => exchange.requestTrailers(t), settle);
  if (upstreamEnded && !upstreamAborted && !exchange.finished) {
    let response = recorded.upstream?.response ?? null;
    if (response === null) {
      notes.push("the request went upstream, which it did not in the recording: answered 503 (no recorded upstream answer)");
      response = { headers: [[":status", "503"], ["content-type", "text/plain"]], body: { text: "no upstream answer in the recording" }, trailers: null };
    }
    send(response, (h, eos) => exchange.responseHeaders(h, eos), (b, eos) => exchange.responseBody(b, eos), (t) => exchange.responseTrailers(t), settle);
  }
  const outcomes = exchange.finish();
  const cut = [recorded.request.body, recorded.upstream?.response?.body].some((b) => b?.size !== undefined);
  if (cut) notes.push(`the recording kept the first ${limit} bytes of each body (its buffer limit): bodies compared on those`);
  return {
    upstreamRequest: upstream.record(),
    response: client.record(),
    localReplies: outcomes.map(({ result: { localResponse: l } }) =>
      l ? { status: l.status, details: l.details, headers: l.headers, body: encodeBody([l.bodyBytes], limit) } : null,
    ),
    reset,
    notes,
    inputCut: cut,
  };
}

/** Headers, then the body in the chunks it arrived in, then trailers; end_of_stream on the last. */
function send(
  m: RecordedMessage,
  headers: (h: RecordedMessage["headers"], eos: boolean) => void,
  body: (b: Uint8Array, eos: boolean) => void,
  trailers: (t: RecordedMessage["headers"]) => void,
  settle: () => void,
): void {
  const chunks = bodyChunks(m.body);
  headers(m.headers, chunks.length === 0 && m.trailers === null);
  settle();
  chunks.forEach((c, i) => {
    body(c, i === chunks.length - 1 && m.trailers === null);
    settle();
  });
  if (m.trailers !== null) {
    trailers(m.trailers);
    settle();
  }
}

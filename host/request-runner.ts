// Drives a whole request (RequestSpec) through one HTTP stream, or a whole connection (TcpSpec)
// through one TCP connection, in Envoy's order, answering the callouts they make from the spec.

import { answerFromQueue } from "./callout-answers.js";
import { runGuarded } from "./deadline.js";
import type { Header, HeaderInput } from "./header-map.js";
import type { HttpStream } from "./http-stream.js";
import type { RequestSpec, TcpSpec } from "./plugin-options.js";
import type { PluginVm } from "./plugin-vm.js";
import type { RequestResult } from "./results.js";
import type { TcpConnection, TcpResult } from "./tcp-connection.js";
import { decodeText } from "./text.js";
import type { Vm } from "./vm.js";

const DEFAULT_REQUEST_HEADERS: Header[] = [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "localhost"],
  [":scheme", "http"],
];

/**
 * The request, then (if the whole request reached the upstream) the response, then the end of
 * the stream. After each step every pending call the stream made gets the spec's next answer.
 * The whole request runs under one callback-deadline watchdog (deadline.ts runGuarded); a stop
 * fails the VM whose callback ran too long and the request goes on with the next step.
 */
export function runHttpRequest(target: PluginVm, stream: HttpStream, spec: RequestSpec): RequestResult {
  const answers = [...(spec.httpCallResponses ?? [])];
  const firstToken = target.vm.counters.peek("httpCall");
  const answer = () => answerFromQueue(target, answers, firstToken, stream.logs);
  const steps: (() => void)[] = [];
  messageSteps(
    steps,
    withDefaults(spec.requestHeaders ?? [], DEFAULT_REQUEST_HEADERS),
    spec.requestBody ?? [],
    spec.requestTrailers,
    (h, eos) => stream.sendRequestHeaders(h, eos),
    (b, eos) => stream.sendRequestBody(b, eos),
    (t) => stream.sendRequestTrailers(t),
    answer,
  );
  steps.push(() => {
    if (stream.requestComplete) {
      messageSteps(
        steps,
        withDefaults(spec.responseHeaders ?? [], [[":status", "200"]]),
        spec.responseBody ?? [],
        spec.responseTrailers,
        (h, eos) => stream.sendResponseHeaders(h, eos),
        (b, eos) => stream.sendResponseBody(b, eos),
        (t) => stream.sendResponseTrailers(t),
        answer,
      );
    }
    steps.push(() => stream.complete());
  });
  let next = 0;
  for (;;) {
    const stop = runGuarded(target.vm.config.callbackDeadlineMs ?? 0, () => {
      while (next < steps.length) steps[next++]();
    });
    if (stop === null) break;
    // Every finally between the callback and here was skipped: put the VMs back, fail the one
    // whose callback ran too long, and end this stream if that was its VM.
    const owner = (stop.owner as Vm | null) ?? target.vm;
    target.vm.resetAfterStop();
    const name = stop.owner === null ? "the request's host work" : stop.name;
    // The failure is logged where a trap's would be: the stream's logs for its own VM.
    owner.stoppedByGuard(name, stop.elapsedMs, stop.deadlineMs, owner === target.vm ? stream.logs : undefined);
    if (owner === target.vm) stream.endIfItsCallbackStopped();
  }
  return stream.result();
}

/**
 * The client's chunks (end_of_stream on the last), the upstream's chunks (end_of_stream on the
 * last, i.e. the upstream close), then the client closes.
 */
export function runTcpConnection(target: PluginVm, connection: TcpConnection, spec: TcpSpec): TcpResult {
  const answers = [...(spec.httpCallResponses ?? [])];
  const firstToken = target.vm.counters.peek("httpCall");
  const answer = () => answerFromQueue(target, answers, firstToken, connection.logs);
  answer();
  const down = spec.downstreamData ?? [];
  down.forEach((chunk, i) => {
    connection.sendDownstreamData(chunk, i === down.length - 1);
    answer();
  });
  // No upstream data while the filter holds tcp_proxy back (on_new_connection StopIteration).
  const up = connection.upstreamConnected ? (spec.upstreamData ?? []) : [];
  if (connection.upstreamConnected && up.length === 0) connection.closeUpstream();
  up.forEach((chunk, i) => {
    connection.sendUpstreamData(chunk, i === up.length - 1);
    answer();
  });
  connection.closeDownstream("remote");
  return connection.result();
}

/** Pseudo-headers the caller left out get defaults, in front of the given headers. */
function withDefaults(given: HeaderInput[], defaults: Header[]): HeaderInput[] {
  // Envoy compares lower-cased names; only ASCII letters change case.
  const name = (g: string | Uint8Array) => (typeof g === "string" ? g : decodeText(g)).replace(/[A-Z]+/g, (m) => m.toLowerCase());
  // A request's host header is its :authority (Envoy's request header map; HTTP/1's Host).
  const givenNames = given.map(([g]) => (name(g) === "host" ? ":authority" : name(g)));
  const missing = defaults.filter(([k]) => !givenNames.includes(k));
  return [...missing, ...given];
}

/** The steps of one message: headers, each body chunk, trailers, each followed by `afterEach`. */
function messageSteps(
  steps: (() => void)[],
  headers: HeaderInput[],
  body: (string | Uint8Array)[],
  trailers: HeaderInput[] | undefined,
  sendHeaders: (h: HeaderInput[], eos: boolean) => void,
  sendBody: (b: string | Uint8Array, eos: boolean) => void,
  sendTrailers: (t: HeaderInput[]) => void,
  afterEach: () => void,
): void {
  steps.push(() => sendHeaders(headers, body.length === 0 && trailers === undefined), afterEach);
  body.forEach((chunk, i) => steps.push(() => sendBody(chunk, i === body.length - 1 && trailers === undefined), afterEach));
  if (trailers !== undefined) steps.push(() => sendTrailers(trailers), afterEach);
}

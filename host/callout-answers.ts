// Answers to a plugin's callouts, delivered to the VM that made them: what a test gives through
// the Plugin API, what a RequestSpec queues, and Envoy's router timeouts. Each answer is one
// root-level operation of that VM (callouts.ts calls the module's callback).

import { deliverGrpc, deliverHttpCall, TIMEOUT_RESPONSE, type GrpcEvent, type HttpCallResponse } from "./callouts.js";
import type { HttpCallRecord } from "./context.js";
import type { HttpCallAnswer } from "./plugin-options.js";
import type { PluginVm } from "./plugin-vm.js";
import type { LogEntry } from "./results.js";

/** The pending call with this token; throws for one that does not exist or was answered. */
export function pendingCall(target: PluginVm, token: number): HttpCallRecord {
  const call = target.vm.pendingHttpCalls.get(token);
  if (call) return call;
  if (target.vm.httpCallEnded(token)) {
    const cancelled = target.state === "deleted" ? ", or cancelled when the root context was deleted" : "";
    throw new Error(`http_call ${token} was already answered (responded, failed or timed out)${cancelled}`);
  }
  throw new Error(`no http_call with token ${token}`);
}

/** Delivers one answer; returns whether the plugin was called. */
export function answerHttpCall(
  target: PluginVm,
  call: HttpCallRecord,
  response: HttpCallResponse | null,
  sink: LogEntry[] = target.logs,
): boolean {
  let delivered = false;
  target.operation(() => {
    // Nothing reaches a deleted root: deleteRoot cancelled its calls, and this drops one a stream
    // still running made after it.
    if (target.state === "deleted") {
      target.vm.pendingHttpCalls.delete(call.token);
      return;
    }
    delivered = deliverHttpCall(target.vm, target.startedRoot, call, response);
  }, sink);
  return delivered;
}

/** Delivers one gRPC event; throws for a token of the wrong kind or one never opened. */
export function answerGrpc(target: PluginVm, token: number, event: GrpcEvent, kind: "call" | "stream"): boolean {
  const vm = target.vm;
  const expected = kind === "call" ? 1 : 2;
  if ((token & 3) !== expected) throw new Error(`${token} is not a gRPC ${kind} token (gRPC calls are 5, 9, ...; streams 6, 10, ...)`);
  if (token >= (kind === "call" ? vm.counters.peek("grpcCall") : vm.counters.peek("grpcStream"))) {
    throw new Error(`the plugin never opened gRPC ${kind} ${token}`);
  }
  let delivered = false;
  target.operation(() => {
    if (target.state === "deleted") return;
    delivered = deliverGrpc(vm, target.startedRoot, token, event);
  });
  return delivered;
}

/**
 * Answers the pending calls with a token from `firstToken` on (those made since) from `answers`
 * (consumed in order), in token order; the callbacks' logs go to `sink` (a request's or connection's).
 */
export function answerFromQueue(target: PluginVm, answers: HttpCallAnswer[], firstToken: number, sink: LogEntry[]): void {
  while (answers.length > 0) {
    const call = firstPendingFrom(target.vm.pendingHttpCalls, firstToken);
    if (!call) return;
    const answer = answers.shift()!;
    if (answer === "fail") answerHttpCall(target, call, null, sink);
    else if (answer === "timeout") answerHttpCall(target, call, TIMEOUT_RESPONSE, sink);
    else answerHttpCall(target, call, answer, sink);
  }
}

/** The oldest pending call with a token from `firstToken` on (the map is in token order). */
function firstPendingFrom(pending: Map<number, HttpCallRecord>, firstToken: number): HttpCallRecord | undefined {
  for (const call of pending.values()) if (call.token >= firstToken) return call;
  return undefined;
}

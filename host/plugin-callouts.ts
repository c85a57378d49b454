// Answering a plugin's HTTP and gRPC callouts from a test, as Envoy's async clients would, on the
// worker whose VM made the call (callout-answers.ts delivers them).

import { toBytes } from "./abi/pairs.js";
import { answerGrpc, answerHttpCall, pendingCall } from "./callout-answers.js";
import { TIMEOUT_RESPONSE, type HttpCallResponse } from "./callouts.js";
import type { Header } from "./header-map.js";
import type { GrpcCallInfo, PendingHttpCall } from "./plugin-options.js";
import { PluginCore } from "./plugin-core.js";
import type { PluginVm } from "./plugin-vm.js";

export abstract class PluginCallouts extends PluginCore {
  /** Calls waiting for an answer, oldest first (by worker). Any time. */
  pendingHttpCalls(): PendingHttpCall[] {
    const elapsed = this.clock.elapsedMs;
    return this.vms.flatMap((w, worker) =>
      [...w.vm.pendingHttpCalls.values()].map((c) => ({
        worker,
        token: c.token,
        upstream: c.upstream,
        headers: c.headers,
        body: c.body,
        bodyBytes: c.bodyBytes,
        trailers: c.trailers,
        timeoutMs: c.timeoutMs,
        contextId: c.contextId,
        timesOutInMs: c.dueAtMs === null ? null : Math.max(0, c.dueAtMs - elapsed),
      })),
    );
  }

  /**
   * Answers a pending http_call on the root context, as Envoy does; null is a failed call (see
   * failHttpCall). Returns whether the plugin was called (false once the VM failed). Throws for
   * a token that is not pending (answered, or cancelled when its root was deleted, as Envoy's
   * ~Context does). Tokens count per VM: with several workers, name the `worker` whose call it
   * is when two have the same token pending.
   */
  respondToHttpCall(token: number, response: HttpCallResponse | null, worker?: number): boolean {
    const target = this.callOwner(token, worker, (w) => w.vm.pendingHttpCalls.has(token));
    return answerHttpCall(target, pendingCall(target, token), response);
  }

  /**
   * Fails a pending call as a reset: on_http_call_response(token, 0, 0, 0) with proxy_get_status
   * answering 11 (BrokenConnection) "reset". Throws for a token that is not pending.
   */
  failHttpCall(token: number, worker?: number): boolean {
    return this.respondToHttpCall(token, null, worker);
  }

  /**
   * Times a pending call out now, as Envoy's router does: the plugin gets a 504 response with
   * body "upstream request timeout" (not a failure). Throws for a token that is not pending.
   */
  timeoutHttpCall(token: number, worker?: number): boolean {
    const target = this.callOwner(token, worker, (w) => w.vm.pendingHttpCalls.has(token));
    return answerHttpCall(target, pendingCall(target, token), TIMEOUT_RESPONSE);
  }

  // ---- gRPC callouts -----------------------------------------------------------------------

  /** Open gRPC calls and streams (those Envoy still tracks), oldest first (by worker). Any time. */
  grpcCalls(): GrpcCallInfo[] {
    return this.vms.flatMap((w, worker) => [...w.vm.grpcCallouts.values()].map((c) => ({
      worker,
      token: c.token,
      kind: c.kind,
      upstream: c.service,
      serviceName: c.serviceName,
      method: c.method,
      initialMetadata: c.metadata,
      messages: [...c.messages],
      messagesSent: c.messagesSent,
      timeoutMs: c.timeoutMs,
      contextId: c.contextId,
      localClosed: c.localClosed,
      remoteClosed: c.remoteClosed,
    })));
  }

  /**
   * A unary call succeeds: on_grpc_receive(token, size) with GRPC_RECEIVE_BUFFER readable, and the
   * call is over. Returns false if the plugin had cancelled or closed it (Envoy drops it).
   */
  respondToGrpcCall(token: number, message: string | Uint8Array, worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "message", message: toBytes(message) }, "call");
  }

  /** A unary call fails: on_grpc_close(token, status), proxy_get_status giving (status, message). */
  failGrpcCall(token: number, status: number, message = "", worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "close", status, message }, "call");
  }

  /** Stream: on_grpc_receive_initial_metadata(token, n) with map 4 readable. */
  receiveGrpcInitialMetadata(token: number, metadata: Header[], worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "initial_metadata", metadata }, "stream");
  }

  /** Stream: on_grpc_receive(token, size) with GRPC_RECEIVE_BUFFER readable. */
  receiveGrpcMessage(token: number, message: string | Uint8Array, worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "message", message: toBytes(message) }, "stream");
  }

  /** Stream: on_grpc_receive_trailing_metadata(token, n) with map 5 readable. */
  receiveGrpcTrailingMetadata(token: number, metadata: Header[], worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "trailing_metadata", metadata }, "stream");
  }

  /**
   * Stream: the remote side closes with a gRPC status: on_grpc_close(token, status). Nothing more
   * is delivered on it afterwards.
   */
  closeGrpcStream(token: number, status: number, message = "", worker?: number): boolean {
    return answerGrpc(this.grpcOwner(token, worker), token, { kind: "close", status, message }, "stream");
  }

  /**
   * The worker a callout answer goes to: `worker` when given, else the only worker whose VM
   * `has` the token; with none, the first (whose lookup then reports the token unknown).
   */
  protected callOwner(token: number, worker: number | undefined, has: (w: PluginVm) => boolean): PluginVm {
    const vms = this.running().vms;
    if (worker !== undefined) {
      if (!vms[worker]) throw new Error(`no worker ${worker}: the plugin runs ${vms.length} worker(s)`);
      return vms[worker];
    }
    const owners = vms.filter(has);
    if (owners.length > 1) {
      throw new Error(`token ${token} is open on workers ${owners.map((w) => vms.indexOf(w)).join(" and ")}: pass the worker`);
    }
    return owners[0] ?? vms[0];
  }

  protected grpcOwner(token: number, worker: number | undefined): PluginVm {
    return this.callOwner(token, worker, (w) => w.vm.grpcCallouts.has(token));
  }
}

// A plugin as createPlugin() gives it to a test. This file holds what a test drives from outside:
// HTTP streams and TCP connections (request-runner.ts runs a whole spec), the clock (ticks and
// callout timeouts) and shutdown. The layers below: plugin-shared.ts (metrics, shared data,
// queues, foreign functions), plugin-callouts.ts (answers to HTTP and gRPC callouts),
// plugin-core.ts (state, start, picking a worker), plugin-load.ts (module checks and options),
// plugin-workers.ts (the VMs as Envoy starts them) and plugin-vm.ts (one VM). Nothing happens on
// its own: time only moves in advanceTime(), answers only come when a test gives them. Each
// public method says when it may be called.

import type { HttpStream } from "./http-stream.js";
import type { RequestSpec, ShutdownResult, TcpSpec } from "./plugin-options.js";
import { answerGrpc, answerHttpCall } from "./callout-answers.js";
import { GRPC_TIMEOUT, TIMEOUT_RESPONSE } from "./callouts.js";
import type { TimeInput } from "./clock.js";
import type { HttpCallRecord } from "./context.js";
import type { PluginVm } from "./plugin-vm.js";
import { PluginShared } from "./plugin-shared.js";
import type { PropertyValue } from "./properties.js";
import { runHttpRequest, runTcpConnection } from "./request-runner.js";
import type { RequestResult } from "./results.js";
import type { TcpConnection, TcpResult } from "./tcp-connection.js";

export class Plugin extends PluginShared {
  /**
   * A new HTTP stream to drive phase by phase, on `worker` or the next worker round-robin. Needs
   * a started plugin that was not shut down.
   */
  newHttpStream(properties?: Record<string, PropertyValue>, worker?: number): HttpStream {
    return this.pick(worker).newHttpStream(this.streamSettings(properties));
  }

  /**
   * One whole stream; the upstream answers only if the whole request reached it. Callouts are
   * answered from `spec.httpCallResponses` in order. Needs a started plugin.
   */
  runHttpRequest(spec: RequestSpec = {}): RequestResult {
    const target = this.pick(spec.worker);
    return runHttpRequest(target, target.newHttpStream(this.streamSettings(spec.properties)), spec);
  }

  /**
   * A new TCP connection (on_context_create, on_new_connection) to drive step by step, on
   * `worker` or the next worker round-robin. Needs a started plugin.
   */
  newTcpConnection(properties?: Record<string, PropertyValue>, worker?: number): TcpConnection {
    return this.pick(worker).newTcpConnection(this.streamSettings(properties));
  }

  /**
   * One whole connection: the client's chunks (end_of_stream on the last), the upstream's chunks
   * (end_of_stream on the last, i.e. the upstream close), then the client closes. Needs a started plugin.
   */
  runTcpConnection(spec: TcpSpec = {}): TcpResult {
    const target = this.pick(spec.worker);
    return runTcpConnection(target, target.newTcpConnection(this.streamSettings(spec.properties)), spec);
  }

  // ---- Time --------------------------------------------------------------------------------

  /**
   * Fires proxy_on_tick now on every worker's root that set a tick period (Envoy ticks each
   * worker), and re-arms their timers from the current time. Returns whether any ran. Needs a
   * started plugin.
   */
  tick(): boolean {
    this.running();
    let ran = false;
    for (const worker of this.vms) {
      if (worker.tickPeriodMs === 0) continue;
      worker.fireTick(this.clock.elapsedMs);
      ran = true;
    }
    return ran;
  }

  /** The tick period the (first) worker's root set (0 = none). Any time. */
  get tickPeriodMs(): number {
    return this.vms[0]?.tickPeriodMs ?? 0;
  }

  /**
   * Moves the clock on by `ms`, firing what falls due in order: ticks (re-armed after each
   * on_tick, as Envoy does) and callout timeouts (Envoy's 504 "upstream request timeout"; a
   * unary gRPC call's: on_grpc_close with 14 Unavailable, "upstream request timeout").
   * Needs a started plugin.
   */
  advanceTime(ms: number): void {
    if (!(ms >= 0)) throw new Error(`advanceTime(${ms}): a non-negative number of milliseconds`);
    this.running();
    const target = this.clock.elapsedMs + ms;
    for (;;) {
      // The earliest event of any worker: its tick, or one of its callouts timing out.
      let next: { at: number; worker: PluginVm; call: HttpCallRecord | null; grpc: number | null } | null = null;
      for (const worker of this.vms) {
        const tickAt = worker.tickDueMs;
        if (tickAt !== undefined && tickAt <= target && (next === null || tickAt < next.at)) next = { at: tickAt, worker, call: null, grpc: null };
        // Pending calls are in token order, so the first of the earliest due is the lowest token.
        for (const call of worker.vm.pendingHttpCalls.values()) {
          if (call.dueAtMs !== null && call.dueAtMs <= target && (next === null || call.dueAtMs < next.at)) next = { at: call.dueAtMs, worker, call, grpc: null };
        }
        for (const g of worker.vm.grpcCallouts.values()) {
          if (g.dueAtMs !== null && g.dueAtMs <= target && (next === null || g.dueAtMs < next.at)) next = { at: g.dueAtMs, worker, call: null, grpc: g.token };
        }
      }
      if (next === null) break;
      this.clock.advance(Math.max(0, next.at - this.clock.elapsedMs));
      if (next.grpc !== null) {
        next.worker.vm.grpcCallouts.get(next.grpc)!.dueAtMs = null;
        answerGrpc(next.worker, next.grpc, GRPC_TIMEOUT, "call");
      } else if (next.call === null) next.worker.fireTick(this.clock.elapsedMs);
      else answerHttpCall(next.worker, next.call, TIMEOUT_RESPONSE);
    }
    this.clock.advance(Math.max(0, target - this.clock.elapsedMs));
  }

  /** Sets the wall clock (ms since the epoch, or ns as a bigint); fires no timers. Any time. */
  setTime(time: TimeInput): void {
    this.clock.set(time);
  }

  /** The wall-clock time the plugin sees, in ns. Any time. */
  now(): bigint {
    return this.clock.realtimeNs();
  }

  // ---- Shutdown ----------------------------------------------------------------------------

  /**
   * Shuts the root down as Envoy does (cpp-host startShutdown): on_done(root); true -> on_delete
   * now; false -> the plugin must call proxy_done (from a later callback: a tick, a callout answer),
   * after which on_delete runs. Needs a started plugin; no new streams afterwards.
   */
  shutdown(): ShutdownResult {
    this.running();
    const before = this.logs.length;
    for (const worker of this.vms) worker.shutdown();
    return {
      done: this.vms.every((w) => w.doneAnswer ?? true),
      deleted: this.state === "deleted",
      logs: this.logs.slice(before),
    };
  }
}

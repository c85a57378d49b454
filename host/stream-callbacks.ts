// Calling the filter's callbacks for one HTTP stream, and what a VM failure does to the stream
// (cpp-host context.cc CHECK_FAIL; Envoy context.cc failStream): fail open lets the stream pass,
// fail closed answers 503 wasm_fail_stream once and skips the VM from then on.

import { normaliseDataStatus, normaliseHeadersStatus, normaliseTrailersStatus } from "./abi/enums.js";
import { ForwardedState } from "./forwarded.js";
import { prepareLocalReply } from "./local-reply.js";
import type { PhaseName } from "./results.js";
import { FAILED_STATUS, type Callback } from "./stream-direction.js";
import { StreamState } from "./stream-state.js";

export abstract class StreamCallbacks extends StreamState {
  private created = false;
  private failureReplySent = false;

  /** proxy_on_context_create, once, before the stream's first callback. */
  protected onCreate(): void {
    if (this.created) return;
    this.created = true;
    const vm = this.env.vm;
    if (vm.failure === null && vm.has("proxy_on_context_create")) {
      vm.call("proxy_on_context_create", this.ctx, this.ctx.id, this.env.root.id);
    }
  }

  /**
   * Calls a filter callback and returns the status Envoy reads, or null when the stream was
   * ended by a VM failure. A VM that failed earlier is not called (cpp-host CHECK_FAIL).
   */
  protected invoke(callback: Callback, kind: "headers" | "data" | "trailers", size: number, eos?: boolean): string | null {
    const vm = this.env.vm;
    if (vm.failure !== null) return this.failStream();
    if (!vm.has(callback.name)) {
      this.recordPhase(callback.phase, eos, "Continue");
      return "Continue";
    }
    vm.stopNextIteration = false;
    // Trailers callbacks take no end_of_stream.
    const raw =
      eos === undefined ? vm.call(callback.name, this.ctx, this.ctx.id, size) : vm.call(callback.name, this.ctx, this.ctx.id, size, eos ? 1 : 0);
    const forced = vm.stopNextIteration;
    vm.stopNextIteration = false;
    if (raw === null || vm.failure !== null) {
      // cpp-host CHECK_FAIL after the call: what Envoy reads once the VM failed (also when the
      // trap was in a nested call, such as malloc inside a hostcall, and the callback returned).
      this.recordPhase(callback.phase, eos, this.env.failOpen ? "Continue" : FAILED_STATUS[kind]);
      return this.failStream();
    }
    const status =
      kind === "headers" ? normaliseHeadersStatus(raw, forced) : kind === "data" ? normaliseDataStatus(raw, forced) : normaliseTrailersStatus(raw, forced);
    this.recordPhase(callback.phase, eos, status);
    return status;
  }

  protected recordPhase(phase: PhaseName, endOfStream: boolean | undefined, result: string): void {
    this.phases.push(endOfStream === undefined ? { phase, result } : { phase, endOfStream, result });
  }

  /** on_log, on_done, on_delete: recorded, skipped once the VM failed. */
  protected callVoid(phase: PhaseName, name: string): void {
    const vm = this.env.vm;
    if (vm.failure !== null) return;
    this.phases.push({ phase });
    if (vm.has(name)) vm.call(name, this.ctx, this.ctx.id);
  }

  /** cpp-host CHECK_FAIL: fail open (Continue) or fail closed with Envoy's failStream(). */
  protected failStream(): string | null {
    if (this.env.failOpen) return "Continue";
    if (!this.failureReplySent) {
      this.failureReplySent = true;
      this.stopped = "vm_failed";
      this.req.closed = true;
      // Envoy: sendLocalReply(503, "", grpc Unavailable, "wasm_fail_stream"); encode* of this
      // filter then skip the VM (failure_local_reply_sent_), so the reply goes out untouched.
      if (this.resp.forwarded.headers === null) {
        const reply = { status: 503, body: new Uint8Array(0), headers: [], details: "wasm_fail_stream", grpcStatus: 14 };
        this.setLocalReply(reply);
        this.resp.forwarded = new ForwardedState();
        this.resp.forwarded.setHeaders(prepareLocalReply(reply, this.requestKind).headers);
        this.resp.forwarded.markComplete();
      }
      this.resp.closed = true;
    }
    return null;
  }
}

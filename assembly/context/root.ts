import { done } from "../hostcalls/context";
import { setTickPeriod } from "../hostcalls/timers";
import { SharedQueue } from "../shared/queue";
import { WasmResult } from "../types";
import { Configuration } from "./configuration";
import { Context } from "./context";
import { HttpContext } from "./http";
import { StreamContext } from "./stream";

/**
 * One plugin's long-lived context. Subclass it, register it with `registerRootContext`, and return
 * your HttpContext from `createHttpContext` (or your StreamContext from `createStreamContext` for a
 * network filter).
 */
export class RootContext extends Context {
  /**
   * The HttpContext all this root's streams share, when the build proved they can (dispatcher/shared-streams.ts).
   * Typed as the base class: as-pect's reflection of an HttpContext field would compile its getters' host calls.
   */
  private sharedHttpContext: Context | null = null;

  /** Once per plugin when its VM starts; `false` fails the start, as in Envoy. */
  onVmStart(vmConfiguration: Configuration): bool { return true; }

  /** When the plugin (re)configures; `false` rejects the configuration and the plugin does not start. */
  onConfigure(pluginConfiguration: Configuration): bool { return true; }

  /** When the plugin shuts down; return false to finish later with `done()`. */
  onDone(): bool { return true; }

  /** Creates the context for a new HTTP stream; null lets the stream pass untouched. */
  createHttpContext(contextId: u32): HttpContext | null { return null; }

  /** Creates the context for a new TCP connection; null lets the connection pass untouched. */
  createStreamContext(contextId: u32): StreamContext | null { return null; }

  /** Every tick period (see setTickPeriod). */
  onTick(): void {}

  /** An item is waiting on a queue this root context registered. */
  onQueueReady(queue: SharedQueue): void {}

  /** The host calls a function of the plugin by id (Envoy uses this for its own extensions). */
  onForeignFunction(functionId: u32, args: ArrayBuffer): void {}

  /** Calls onTick every `periodMs` milliseconds; 0 stops the ticks. */
  setTickPeriod(periodMs: u32): WasmResult {
    this.activate();
    return setTickPeriod(periodMs);
  }

  /** Finishes a shutdown that `onDone` deferred by returning false. */
  done(): WasmResult {
    this.activate();
    return done();
  }
}

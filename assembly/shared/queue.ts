// Shared queues: any VM enqueues, the root context that registered the queue is told with onQueueReady.
import { dequeueSharedQueue, enqueueSharedQueue, registerSharedQueue, resolveSharedQueue } from "../hostcalls/shared";
import { WasmResult } from "../types";
import { decodeUtf8, encodeUtf8 } from "../utf8";

export class SharedQueue {
  private constructor(readonly id: u32) {}

  /**
   * Creates the queue `name` of this VM's vm_id, or takes it over, and makes the calling root context
   * its consumer (onQueueReady). Null when the host refuses.
   */
  static register(name: string): SharedQueue | null {
    const registered = registerSharedQueue(encodeUtf8(name));
    return registered.result == WasmResult.Ok ? new SharedQueue(registered.queueId) : null;
  }

  /** Finds a queue some VM registered; an empty vmId means this VM's own. Null when there is none. */
  static resolve(vmId: string, name: string): SharedQueue | null {
    const resolved = resolveSharedQueue(encodeUtf8(vmId), encodeUtf8(name));
    return resolved.result == WasmResult.Ok ? new SharedQueue(resolved.queueId) : null;
  }

  /** The queue with a known id, as onQueueReady reports it. */
  static fromId(id: u32): SharedQueue {
    return new SharedQueue(id);
  }

  enqueue(value: ArrayBuffer): WasmResult {
    return enqueueSharedQueue(this.id, value);
  }

  enqueueString(value: string): WasmResult {
    return this.enqueue(encodeUtf8(value));
  }

  /** The next item, or null when the queue is empty (or gone). */
  dequeue(): ArrayBuffer | null {
    return dequeueSharedQueue(this.id).value;
  }

  dequeueString(): string | null {
    const value = this.dequeue();
    return value ? decodeUtf8(value) : null;
  }
}

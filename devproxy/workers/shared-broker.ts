// Shared data and queues across the dev proxy's worker threads, as one Envoy process shares them
// between its workers by vm_id (cpp-host src/shared_data.cc, src/shared_queue.cc). The main thread
// keeps the one store (host/shared-state.ts) and answers each worker's operation; the ABI calls
// are synchronous, so the worker posts the operation and sleeps on a SharedArrayBuffer
// (Atomics.wait) until the main thread has posted the answer. CAS, tokens and "registering again
// moves the consumer" are the store's own rules; on_queue_ready goes to the worker whose VM
// registered the queue last, as a `queue-ready` message on its channel.

import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { WasmResult } from "../../host/abi/enums.js";
import {
  dequeue,
  enqueue,
  getSharedData,
  registerQueue,
  resolveQueue,
  setSharedData,
  type Entry,
  type QueueConsumer,
  type SharedStateBackend,
} from "../../host/shared-state.js";

type Operation =
  | { op: "get"; vmId: string; key: string }
  | { op: "set"; vmId: string; key: string; value: Uint8Array; cas: number }
  | { op: "register"; vmId: string; name: string }
  | { op: "resolve"; vmId: string; name: string }
  | { op: "enqueue"; token: number; value: Uint8Array }
  | { op: "dequeue"; token: number };

/** What a worker needs to reach the store: its end of the port and the flag it sleeps on. */
export interface BrokerLink {
  port: MessagePort;
  flag: SharedArrayBuffer;
}

/** Main thread: answers one worker's operations; `queueReady` tells that worker a queue has items. */
export function serveSharedState(link: BrokerLink, queueReady: (token: number) => void): void {
  const flag = new Int32Array(link.flag);
  const consumer: QueueConsumer = { notify: queueReady };
  link.port.on("message", (o: Operation) => {
    let answer: unknown;
    switch (o.op) {
      case "get":
        answer = getSharedData(o.vmId, o.key) ?? null;
        break;
      case "set":
        answer = setSharedData(o.vmId, o.key, o.value, o.cas);
        break;
      case "register":
        answer = registerQueue(o.vmId, o.name, consumer);
        break;
      case "resolve":
        answer = resolveQueue(o.vmId, o.name) ?? null;
        break;
      case "enqueue":
        answer = enqueue(o.token, o.value);
        break;
      case "dequeue":
        answer = dequeue(o.token);
        break;
    }
    link.port.postMessage(answer);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
}

/**
 * Worker thread: the store as seen from here. `consumers` keeps who registered each queue in this
 * worker, for the main thread's `queue-ready` messages.
 */
export function remoteSharedState(link: BrokerLink, consumers: Map<number, QueueConsumer>): SharedStateBackend {
  const flag = new Int32Array(link.flag);
  const call = (operation: Operation): unknown => {
    Atomics.store(flag, 0, 0);
    link.port.postMessage(operation);
    // The main thread never waits on a worker, so it answers as soon as its loop turns.
    while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 1000);
    return receiveMessageOnPort(link.port)!.message;
  };
  return {
    get: (vmId, key) => (call({ op: "get", vmId, key }) as Entry | null) ?? undefined,
    set: (vmId, key, value, cas) => call({ op: "set", vmId, key, value, cas }) as WasmResult,
    register: (vmId, name, consumer) => {
      const token = call({ op: "register", vmId, name }) as number;
      consumers.set(token, consumer);
      return token;
    },
    resolve: (vmId, name) => (call({ op: "resolve", vmId, name }) as number | null) ?? undefined,
    enqueue: (token, value) => call({ op: "enqueue", token, value }) as WasmResult,
    dequeue: (token) => call({ op: "dequeue", token }) as Uint8Array | WasmResult,
  };
}

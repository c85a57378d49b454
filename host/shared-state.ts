// Process-wide state that Envoy shares between all VMs of one vm_id on all worker threads:
// shared data with cpp-host's compare-and-swap (src/shared_data.cc) and shared queues
// (src/shared_queue.cc). A Node process plays the part of one Envoy process.

import { WasmResult } from "./abi/enums.js";

export interface Entry {
  value: Uint8Array;
  cas: number;
}

/**
 * Where the store lives when it is not this thread's: the dev proxy's worker threads install one
 * that asks the main thread (devproxy/workers/shared-broker.ts), so every worker sees one store.
 */
export interface SharedStateBackend {
  get(vmId: string, key: string): Entry | undefined;
  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult;
  register(vmId: string, name: string, consumer: QueueConsumer): number;
  resolve(vmId: string, name: string): number | undefined;
  enqueue(token: number, value: Uint8Array): WasmResult;
  dequeue(token: number): Uint8Array | WasmResult;
}

let backend: SharedStateBackend | null = null;

/** Serves shared data and queues from `remote` (null: this thread's own store). */
export function useSharedStateBackend(remote: SharedStateBackend | null): void {
  backend = remote;
}

let casCounter = 0;
const data = new Map<string, Map<string, Entry>>();

/** One global counter starting at 1 that skips 0 when it wraps. */
function nextCas(): number {
  casCounter = (casCounter + 1) >>> 0;
  if (casCounter === 0) casCounter = 1;
  return casCounter;
}

export function getSharedData(vmId: string, key: string): Entry | undefined {
  if (backend) return backend.get(vmId, key);
  return data.get(vmId)?.get(key);
}

export function setSharedData(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
  if (backend) return backend.set(vmId, key, value, cas);
  let map = data.get(vmId);
  if (!map) data.set(vmId, (map = new Map()));
  const existing = map.get(key);
  if (existing && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
  map.set(key, { value: value.slice(), cas: nextCas() });
  return WasmResult.Ok;
}

export interface QueueConsumer {
  /** Posts on_queue_ready(root, token) to the consumer's VM. */
  notify(token: number): void;
}

interface Queue {
  items: Uint8Array[];
  consumer: QueueConsumer;
}

let queueTokenCounter = 0;
const queueTokens = new Map<string, number>();
const queues = new Map<number, Queue>();
const queueKey = (vmId: string, name: string) => `${vmId}\0${name}`;

/** Registering again returns the same token and moves the consumer; items are kept. */
export function registerQueue(vmId: string, name: string, consumer: QueueConsumer): number {
  if (backend) return backend.register(vmId, name, consumer);
  const key = queueKey(vmId, name);
  let token = queueTokens.get(key);
  if (token === undefined) {
    token = ++queueTokenCounter;
    queueTokens.set(key, token);
    queues.set(token, { items: [], consumer });
  } else {
    queues.get(token)!.consumer = consumer;
  }
  return token;
}

export function resolveQueue(vmId: string, name: string): number | undefined {
  if (backend) return backend.resolve(vmId, name);
  return queueTokens.get(queueKey(vmId, name));
}

export function enqueue(token: number, value: Uint8Array): WasmResult {
  if (backend) return backend.enqueue(token, value);
  const queue = queues.get(token);
  if (!queue) return WasmResult.NotFound;
  queue.items.push(value.slice());
  queue.consumer.notify(token);
  return WasmResult.Ok;
}

export function dequeue(token: number): Uint8Array | WasmResult {
  if (backend) return backend.dequeue(token);
  const queue = queues.get(token);
  if (!queue) return WasmResult.NotFound;
  return queue.items.shift() ?? WasmResult.Empty;
}

/** For test suites that want isolation between cases; Envoy never forgets. */
export function resetSharedState(): void {
  data.clear();
  queueTokens.clear();
  queues.clear();
  casCounter = 0;
  queueTokenCounter = 0;
}

/** Every key of one vm_id's store, for tests and the simulate report. */
export function sharedDataEntries(vmId: string): [string, Entry][] {
  return [...(data.get(vmId)?.entries() ?? [])].map(([k, e]) => [k, { value: e.value.slice(), cas: e.cas }]);
}

/** The items waiting in a queue (oldest first), or undefined if it was never registered. */
export function queueItems(token: number): Uint8Array[] | undefined {
  return queues.get(token)?.items.map((i) => i.slice());
}

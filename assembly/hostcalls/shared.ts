// Shared data (a key-value store with compare-and-swap, one per vm_id) and shared queues.
import {
  proxy_dequeue_shared_queue, proxy_enqueue_shared_queue, proxy_get_shared_data, proxy_register_shared_queue,
  proxy_resolve_shared_queue, proxy_set_shared_data,
} from "../abi/imports";
import { outPointer, outSize, outValue, resetOutSlots, takeHostBuffer } from "../runtime/memory";
import { WasmResult } from "../types";

/** A value read from shared data with the CAS token to write it back with; value is null unless result is Ok. */
export class SharedDataValue {
  constructor(readonly result: WasmResult, readonly value: ArrayBuffer | null, readonly cas: u32) {}
}

export function getSharedData(key: ArrayBuffer): SharedDataValue {
  resetOutSlots();
  const result = proxy_get_shared_data(changetype<usize>(key), key.byteLength, outPointer(), outSize(), outValue());
  if (result != WasmResult.Ok) return new SharedDataValue(result, null, 0);
  const cas = load<u32>(outValue());
  return new SharedDataValue(result, takeHostBuffer(), cas);
}

export function setSharedData(key: ArrayBuffer, value: ArrayBuffer, cas: u32): WasmResult {
  return proxy_set_shared_data(changetype<usize>(key), key.byteLength, changetype<usize>(value), value.byteLength, cas);
}

/** A queue id, or the status that kept the host from giving one. */
export class QueueIdResult {
  constructor(readonly result: WasmResult, readonly queueId: u32) {}
}

export function registerSharedQueue(name: ArrayBuffer): QueueIdResult {
  const result = proxy_register_shared_queue(changetype<usize>(name), name.byteLength, outValue());
  return new QueueIdResult(result, result == WasmResult.Ok ? load<u32>(outValue()) : 0);
}

export function resolveSharedQueue(vmId: ArrayBuffer, name: ArrayBuffer): QueueIdResult {
  const result = proxy_resolve_shared_queue(changetype<usize>(vmId), vmId.byteLength, changetype<usize>(name), name.byteLength, outValue());
  return new QueueIdResult(result, result == WasmResult.Ok ? load<u32>(outValue()) : 0);
}

export function enqueueSharedQueue(queueId: u32, value: ArrayBuffer): WasmResult {
  return proxy_enqueue_shared_queue(queueId, changetype<usize>(value), value.byteLength);
}

/** An item taken from a queue; Empty when there is none. */
export class DequeueResult {
  constructor(readonly result: WasmResult, readonly value: ArrayBuffer | null) {}
}

export function dequeueSharedQueue(queueId: u32): DequeueResult {
  resetOutSlots();
  const result = proxy_dequeue_shared_queue(queueId, outPointer(), outSize());
  return new DequeueResult(result, result == WasmResult.Ok ? takeHostBuffer() : null);
}

// Events for root contexts: ticks, queues, foreign function calls.
import { enterCallback } from "../context/context";
import { RootContext } from "../context/root";
import { getBufferBytes } from "../hostcalls/buffers";
import { emptyBuffer } from "../runtime/memory";
import { SharedQueue } from "../shared/queue";
import { BufferType } from "../types";
import { rootContext } from "./registry";

function enterRoot(contextId: u32): RootContext | null {
  const root = rootContext(contextId);
  if (root) enterCallback(contextId);
  return root;
}

export function onTick(contextId: u32): void {
  const root = enterRoot(contextId);
  if (root) root.onTick();
}

export function onQueueReady(contextId: u32, queueId: u32): void {
  const root = enterRoot(contextId);
  if (root) root.onQueueReady(SharedQueue.fromId(queueId));
}

export function onForeignFunction(contextId: u32, functionId: u32, argsSize: u32): void {
  const root = enterRoot(contextId);
  if (!root) return;
  const args = argsSize ? getBufferBytes(BufferType.CallData, 0, argsSize) : null;
  root.onForeignFunction(functionId, args ? args : emptyBuffer());
}

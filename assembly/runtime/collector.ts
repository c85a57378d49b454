// Garbage collection at safe points. The preset builds with the SDK's runtime (heap.ts: mark and sweep,
// no shadow stack), which may only collect when no AssemblyScript frame holds references: at the end of
// an outermost callback.
// Collecting is a full mark and sweep, so it runs once per COLLECT_EVERY units of work (a callback is
// one unit, a context's end, when its garbage is certain, CONTEXT_END units: about a hundred requests), or
// sooner once COLLECT_AFTER_BYTES were allocated (big bodies), also for long-lived contexts (roots, TCP
// connections). Nothing allocated since the last collection means nothing new to find: that collection is
// skipped (a filter whose streams share their context allocates nothing per request).

const COLLECT_EVERY: u32 = 1024;
const CONTEXT_END: u32 = 8;
const COLLECT_AFTER_BYTES: usize = 32 * 1024;
let depth: u32 = 0;
let workSinceCollection: u32 = 0;

/** Every export calls this first: the host may call back into the module from inside a host call. */
// @ts-ignore: decorator
@inline export function callbackStarted(): void {
  depth++;
}

/** Every export calls this last; `contextEnded` after a context was deleted. Inlined: it runs around every callback. */
// @ts-ignore: decorator
@inline export function callbackFinished(contextEnded: bool): void {
  depth--;
  if (depth != 0) return;
  workSinceCollection += contextEnded ? CONTEXT_END : 1;
  if (workSinceCollection < COLLECT_EVERY && !allocatedPlenty()) return;
  collect();
}

/** Not inlined: it runs once in hundreds of callbacks. */
function collect(): void {
  workSinceCollection = 0;
  if (!nothingAllocated()) __collect();
}

/** Only the SDK's runtime counts the bytes it hands out; with asc's runtimes every due collection runs. */
// @ts-ignore: decorator
@inline function nothingAllocated(): bool {
  if (isDefined(__heapTakenSinceCollect)) return __heapTakenSinceCollect == 0;
  return false;
}

/** Only the SDK's runtime counts the bytes it hands out; with asc's runtimes the work count alone decides. */
// @ts-ignore: decorator
@inline function allocatedPlenty(): bool {
  if (isDefined(__heapTakenSinceCollect)) return __heapTakenSinceCollect >= COLLECT_AFTER_BYTES;
  return false;
}

// Memory the host fills for us. The host calls the allocator, copies its answer in, and hands us
// (pointer, size) through out-parameters; we then own the memory.

/** Out-parameter slots for host calls: two pointers/sizes and one 64-bit value. Calls never nest. */
const outSlots = memory.data(16);

// @ts-ignore: decorator
@inline export function outPointer(): usize { return outSlots; }
// @ts-ignore: decorator
@inline export function outSize(): usize { return outSlots + 4; }
// @ts-ignore: decorator
@inline export function outValue(): usize { return outSlots + 8; }

/**
 * Allocates an ArrayBuffer for the host to fill and pins it, so the collector cannot free it
 * between the host's copy and the moment the SDK takes it with `takeHostBuffer`.
 */
export function allocateForHost(size: usize): usize {
  if (lendScratch && size <= SCRATCH_LIMIT) return lentScratch(size);
  return __pin(__new(size, idof<ArrayBuffer>()));
}

/**
 * Answers the SDK reads and lets go of within the call that asked (a header lookup) go to one block kept
 * pinned for good: no allocation or free per read. Larger ones get a buffer of their own, so one huge
 * header map does not keep its size for the plugin's life.
 */
const SCRATCH_LIMIT: usize = 16 * 1024 - 64; // a 16 KiB block with its header
let scratch: usize = 0;
let scratchCapacity: usize = 0;
let lendScratch = false;

function lentScratch(size: usize): usize {
  lendScratch = false;
  if (size > scratchCapacity) {
    if (scratch) __unpin(scratch); // garbage from now on
    scratchCapacity = min(max(size, scratchCapacity << 1), SCRATCH_LIMIT);
    scratch = __pin(__new(scratchCapacity, idof<ArrayBuffer>()));
  }
  store<u32>(scratch - 4, <u32>size); // the object header's rtSize: the buffer's byteLength
  return scratch;
}

/** Lets the host's next answer go to the scratch block; `takeLentBuffer` takes it after the call. */
// @ts-ignore: decorator
@inline export function lendScratchToHost(): void {
  resetOutSlots();
  lendScratch = true;
}

/**
 * The answer of a call after `lendScratchToHost`: the scratch block, valid until the next such call, or a
 * buffer of its own. Inlined, as are the other steps of a lent read: a header lookup is a handful of them.
 */
// @ts-ignore: decorator
@inline export function takeLentBuffer(): ArrayBuffer {
  lendScratch = false;
  const pointer = load<usize>(outPointer());
  if (pointer == 0 || pointer != scratch) return takeHostBuffer();
  store<usize>(outPointer(), 0);
  return changetype<ArrayBuffer>(pointer);
}

/** Lets go of a lent answer once read: `releaseHostBuffer` unless it is the scratch block. */
// @ts-ignore: decorator
@inline export function releaseLentBuffer(buffer: ArrayBuffer): void {
  if (changetype<usize>(buffer) != scratch) releaseHostBuffer(buffer);
}

/** A new empty ArrayBuffer, without the length check (and its message strings) of `new ArrayBuffer(n)`. */
export function emptyBuffer(): ArrayBuffer {
  return changetype<ArrayBuffer>(__new(0, idof<ArrayBuffer>()));
}

/**
 * Shortens a string or buffer the SDK allocated itself and has not handed out yet (a decoder's or the
 * JSON writer's output) to its first `size` bytes, in place: the block keeps its tail until the object
 * is freed. That is what `__renew` does when shrinking, without its code for growing and moving, which
 * a plugin that never grows an object then leaves out.
 */
export function shrinkNew(object: usize, size: usize): usize {
  store<u32>(object - 4, <u32>size); // the object header's rtSize (std/assembly/rt/common.ts)
  return object;
}

/**
 * `buffer.byteLength`, read from the object header in place: asc's getter is a call that the preset's
 * optimiser (shrinkLevel 2) never inlines, and host calls pass a length with every buffer.
 */
// @ts-ignore: decorator
@inline export function byteLengthOf(buffer: ArrayBuffer): usize {
  return <usize>load<u32>(changetype<usize>(buffer) - 4); // the header's rtSize (std/assembly/rt/common.ts)
}

/** Takes the buffer the host wrote into the out-slots: unpinned, it is ordinary garbage-collected memory. */
export function takeHostBuffer(): ArrayBuffer {
  const pointer = load<usize>(outPointer());
  if (pointer == 0) return emptyBuffer(); // the host writes (0, 0) for empty results
  store<usize>(outPointer(), 0);
  __unpin(pointer);
  return changetype<ArrayBuffer>(pointer);
}

/**
 * Gives a host buffer the SDK has read and let go of (it reached no other object) back to the allocator at
 * once, so the next one reuses its block, still in cache, and collections come less often. Only the SDK's
 * runtime frees a collected object this way; with asc's runtimes the collector takes it later.
 */
export function releaseHostBuffer(buffer: ArrayBuffer): void {
  if (isDefined(__heapTakenSinceCollect)) __free(changetype<usize>(buffer));
}

/** Clears the out-slots before a call so a failed call never leaves a stale pointer behind. Two stores: inlined. */
// @ts-ignore: decorator
@inline export function resetOutSlots(): void {
  store<u64>(outSlots, 0);
  store<u64>(outSlots + 8, 0);
}

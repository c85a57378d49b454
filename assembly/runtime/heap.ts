// The SDK's AssemblyScript runtime: a mark-and-sweep collector over power-of-two size classes.
//
// A filter's heap is small and its garbage comes in request-sized waves, so the runtime trades
// TLSF's exact fit (and its 1.5 KB control structure and 2 KB of code) for a bump pointer and one
// free list per size class: allocation and freeing are O(1), a block is reused by the next
// allocation of its class, and a steady workload reaches a fixed heap size. Blocks lie end to end
// from the heap base, so the sweep walks them in address order without any object lists.
// Collection runs only when the SDK calls __collect at the end of an outermost callback (see
// collector.ts), when no AssemblyScript frame holds a reference: no shadow stack is needed.
//
// Every block keeps the header layout the compiler expects (std/assembly/rt/common.ts):
//   mmInfo  size class (log2 of the block size) and the FREE flag
//   gcInfo  MARKED / PINNED / SCAN_LATER flags; in a free block, the next free block
//   gcInfo2 unused
//   rtId, rtSize
// followed by the object, 16-byte aligned.

// @ts-ignore: decorator
@inline const HEADER: usize = 20;
// @ts-ignore: decorator
@inline const MIN_CLASS: u32 = 5; // 32-byte blocks: a 12-byte object
// @ts-ignore: decorator
@inline const MAX_CLASS: u32 = 30;
// @ts-ignore: decorator
@inline const FREE: u32 = 0x100;
// @ts-ignore: decorator
@inline const CLASS_MASK: u32 = 0xff;
// @ts-ignore: decorator
@inline const MARKED: u32 = 1;
// @ts-ignore: decorator
@inline const PINNED: u32 = 2;
// @ts-ignore: decorator
@inline const SCAN_LATER: u32 = 4;
/** Marking recurses this deep; deeper objects are scanned by later passes over the heap. */
// @ts-ignore: decorator
@inline const MAX_MARK_DEPTH: u32 = 256;

/** First free block of each size class (0: none), lowest address first. */
const freeHeads = memory.data(4 * (MAX_CLASS + 1));
/** Last free block of each class, while a sweep rebuilds the lists. */
const freeTails = memory.data(4 * (MAX_CLASS + 1));

/** The first block: its object (20 bytes in) lands on a 16-byte boundary. */
// @ts-ignore: decorator
@lazy const heapStart: usize = ((__heap_base + HEADER + 15) & ~15) - HEADER;
// @ts-ignore: decorator
@lazy let heapTop: usize = heapStart;
/** Bytes handed out since the last collection: the SDK's collector (collector.ts) collects early after big ones. */
// @ts-ignore: decorator
@global let __heapTakenSinceCollect: usize = 0;
// @ts-ignore: decorator
@lazy let markDepth: u32 = 0;
// @ts-ignore: decorator
@lazy let scanPending = false;

// @ts-ignore: decorator
@inline function mmInfo(block: usize): u32 { return load<u32>(block); }
// @ts-ignore: decorator
@inline function gcInfo(block: usize): u32 { return load<u32>(block, 4); }
// @ts-ignore: decorator
@inline function setGcInfo(block: usize, value: u32): void { store<u32>(block, value, 4); }
// @ts-ignore: decorator
@inline function blockSize(block: usize): usize { return <usize>1 << (mmInfo(block) & CLASS_MASK); }
// @ts-ignore: decorator
@inline function blockOf(ptr: usize): usize { return ptr - HEADER; }

function sizeClass(payload: usize): u32 {
  if (payload > (<usize>1 << MAX_CLASS) - HEADER) abort("out of memory", null, 0, 0); // past the largest class
  const bits = <u32>32 - clz<u32>(<u32>(payload + HEADER - 1));
  return bits < MIN_CLASS ? MIN_CLASS : bits;
}

/** A block of the class: the first free one, else a new one at the top of the heap. */
function takeBlock(sizeClassLog2: u32): usize {
  const head = freeHeads + (sizeClassLog2 << 2);
  let block = <usize>load<u32>(head);
  if (block) {
    store<u32>(head, gcInfo(block));
  } else {
    block = heapTop;
    const top = block + (<usize>1 << sizeClassLog2);
    const pagesNeeded = <i32>((top + 0xffff) >>> 16) - memory.size();
    if (pagesNeeded > 0 && memory.grow(pagesNeeded) < 0) abort("out of memory", null, 0, 0);
    heapTop = top;
  }
  __heapTakenSinceCollect += <usize>1 << sizeClassLog2;
  store<u32>(block, sizeClassLog2);
  setGcInfo(block, 0);
  return block;
}

/** Puts a block at the head of its class's list (outside sweeps, which rebuild the lists). */
function releaseBlock(block: usize): void {
  const sizeClassLog2 = mmInfo(block) & CLASS_MASK;
  const head = freeHeads + (sizeClassLog2 << 2);
  store<u32>(block, sizeClassLog2 | FREE);
  setGcInfo(block, load<u32>(head));
  store<u32>(head, <u32>block);
}

// ---- Memory manager (heap.alloc / heap.realloc / heap.free) --------------------------------

// @ts-ignore: decorator
@global @unsafe
function __alloc(size: usize): usize {
  return takeBlock(sizeClass(size)) + HEADER;
}

// @ts-ignore: decorator
@global @unsafe
function __realloc(ptr: usize, size: usize): usize {
  const block = blockOf(ptr);
  const capacity = blockSize(block) - HEADER;
  if (size <= capacity) return ptr;
  const moved = __alloc(size);
  memory.copy(moved, ptr, capacity);
  releaseBlock(block);
  return moved;
}

// @ts-ignore: decorator
@global @unsafe
function __free(ptr: usize): void {
  if (ptr < heapStart + HEADER) return;
  const block = blockOf(ptr);
  // Bytes given back do not count towards the next collection.
  const size = blockSize(block);
  __heapTakenSinceCollect = __heapTakenSinceCollect > size ? __heapTakenSinceCollect - size : 0;
  releaseBlock(block);
}

// ---- Garbage collector ----------------------------------------------------------------------

// @ts-ignore: decorator
@global @unsafe
function __new(size: usize, id: u32): usize {
  const block = takeBlock(sizeClass(size));
  store<u32>(block, 0, 8);
  store<u32>(block, id, 12);
  store<u32>(block, <u32>size, 16);
  return block + HEADER;
}

// @ts-ignore: decorator
@global @unsafe
function __renew(ptr: usize, size: usize): usize {
  const block = blockOf(ptr);
  const oldSize = <usize>load<u32>(block, 16);
  if (ptr >= heapStart + HEADER && size <= blockSize(block) - HEADER) {
    store<u32>(block, <u32>size, 16);
    return ptr;
  }
  // Static data (below the heap) or too small: a new object, which keeps the pin.
  const moved = __new(size, load<u32>(block, 12));
  memory.copy(moved, ptr, min(size, oldSize));
  if (ptr >= heapStart + HEADER) {
    setGcInfo(blockOf(moved), gcInfo(block) & PINNED);
    releaseBlock(block);
  }
  return moved;
}

// @ts-ignore: decorator
@global @unsafe
function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {
  // Not incremental: no write barrier.
}

// @ts-ignore: decorator
@global @unsafe
function __pin(ptr: usize): usize {
  if (ptr >= heapStart + HEADER) setGcInfo(blockOf(ptr), gcInfo(blockOf(ptr)) | PINNED);
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
function __unpin(ptr: usize): void {
  if (ptr >= heapStart + HEADER) setGcInfo(blockOf(ptr), gcInfo(blockOf(ptr)) & ~PINNED);
}

/** Marks an object reachable and its members, depth-first up to MAX_MARK_DEPTH. */
// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: i32): void {
  if (ptr < heapStart + HEADER) return; // null or static data, which never points into the heap
  const block = blockOf(ptr);
  const flags = gcInfo(block);
  if (flags & MARKED) return;
  if (markDepth >= MAX_MARK_DEPTH) {
    setGcInfo(block, flags | MARKED | SCAN_LATER);
    scanPending = true;
    return;
  }
  setGcInfo(block, flags | MARKED);
  markDepth++;
  __visit_members(ptr, cookie);
  markDepth--;
}

// @ts-ignore: decorator
@global @unsafe
function __collect(): void {
  __heapTakenSinceCollect = 0;
  __visit_globals(0);
  // Pinned objects are roots: the first pass over the heap marks them and scans their members, as
  // it scans every object the marker left for later; it repeats while marking leaves more.
  let firstPass = true;
  do {
    scanPending = false;
    for (let block = heapStart; block < heapTop; block += blockSize(block)) {
      const flags = gcInfo(block);
      const pinnedRoot = firstPass && (flags & (PINNED | MARKED)) == PINNED;
      if ((mmInfo(block) & FREE) == 0 && (pinnedRoot || (flags & SCAN_LATER))) {
        setGcInfo(block, (flags | MARKED) & ~SCAN_LATER);
        __visit_members(block + HEADER, 0);
      }
    }
    firstPass = false;
  } while (scanPending);
  sweep();
}

/**
 * Frees every unmarked block and rebuilds the free lists in address order, so allocation prefers
 * low addresses; free blocks at the top of the heap give their space back to the bump pointer.
 */
function sweep(): void {
  memory.fill(freeHeads, 0, 4 * (MAX_CLASS + 1));
  let liveTop = heapStart;
  for (let block = heapStart; block < heapTop; block += blockSize(block)) {
    const info = mmInfo(block);
    const flags = gcInfo(block);
    if ((info & FREE) == 0 && (flags & (MARKED | PINNED))) {
      setGcInfo(block, flags & PINNED);
      liveTop = block + blockSize(block);
      continue;
    }
    const sizeClassLog2 = info & CLASS_MASK;
    store<u32>(block, sizeClassLog2 | FREE);
    setGcInfo(block, 0);
    const head = freeHeads + (sizeClassLog2 << 2);
    const tail = freeTails + (sizeClassLog2 << 2);
    if (load<u32>(head)) setGcInfo(<usize>load<u32>(tail), <u32>block);
    else store<u32>(head, <u32>block);
    store<u32>(tail, <u32>block);
  }
  // Blocks above the last live one go back to the bump pointer: unlink them from their lists.
  for (let sizeClassLog2: u32 = MIN_CLASS; sizeClassLog2 <= MAX_CLASS; sizeClassLog2++) {
    const head = freeHeads + (sizeClassLog2 << 2);
    let previous: usize = 0;
    let block = <usize>load<u32>(head);
    while (block && block < liveTop) {
      previous = block;
      block = <usize>gcInfo(block);
    }
    if (previous) setGcInfo(previous, 0);
    else store<u32>(head, 0);
  }
  heapTop = liveTop;
}

// UTF-8 of the strings a filter passes again and again (header names, a configured name, a fixed reply
// body): AssemblyScript strings never change, so a string's encoding stays valid while the string lives,
// and a slot that holds both keeps the string alive and its address from being reused. A request that
// names a header or answers with a constant body then encodes and allocates nothing for it.

import { encodeUtf8 } from "../utf8";

// @ts-ignore: decorator
@inline const SLOTS: i32 = 16;
/** Longer strings built at run time are encoded on every call: they are seldom repeated, and a slot would keep them alive. */
// @ts-ignore: decorator
@inline const LONGEST_CACHED: i32 = 128;

/** Slot i holds a string (at 2i) and its encoding (at 2i + 1); reachable from this global, so the collector keeps both. */
// @ts-ignore: decorator
@lazy const slots = newSlots();

/** Empty slots, without the length check (and its message strings) of `new StaticArray(n)`. */
function newSlots(): StaticArray<Object | null> {
  const size = <usize>(SLOTS << 1) << alignof<usize>();
  const array = __new(size, idof<StaticArray<Object | null>>());
  memory.fill(array, 0, size);
  return changetype<StaticArray<Object | null>>(array);
}

/**
 * The UTF-8 bytes of `text`, from the cache when it was encoded before. Only for bytes that go to the host:
 * callers share the buffer. Inlined: a hit is two loads where a call (and asc's array accessors, which the
 * preset's optimiser keeps out of line) cost more than the lookup; only a miss calls `encodeAndCache`.
 */
// @ts-ignore: decorator
@inline export function encodeCached(text: string): ArrayBuffer {
  const address = changetype<usize>(text);
  const slot = changetype<usize>(slots) + slotOffset(address);
  // A string in a slot is kept alive by it, so no other string can have its address.
  if (load<usize>(slot) == address) return changetype<ArrayBuffer>(load<usize>(slot, sizeof<usize>()));
  return encodeAndCache(text);
}

/** Where `address`'s slot starts in `slots`. Objects lie at least 32 bytes apart: bits 4 and up tell neighbours apart. */
// @ts-ignore: decorator
@inline function slotOffset(address: usize): usize {
  return (((address >> 4) & (SLOTS - 1)) << alignof<usize>()) << 1; // two pointers a slot
}

/** A miss of `encodeCached`: encodes `text`, and keeps it with its bytes unless it is long and built at run time. */
function encodeAndCache(text: string): ArrayBuffer {
  const address = changetype<usize>(text);
  // Constants (below the heap) are always cached; they never die.
  if (address >= __heap_base && text.length > LONGEST_CACHED) return encodeUtf8(text);
  const slot = <i32>(slotOffset(address) >> alignof<usize>());
  const bytes = encodeUtf8(text);
  unchecked((slots[slot] = text));
  unchecked((slots[slot + 1] = bytes));
  return bytes;
}

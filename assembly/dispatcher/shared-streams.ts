// HTTP streams that share their root's one context object instead of each allocating its own.
// The transform (transform/shared-contexts.ts) proves at build time that a root's createHttpContext returns
// `new X(contextId, this)` with an X that holds nothing but its id and root and never lets `this` escape,
// and wraps that `new` in shareableHttpContext(). The root keeps the first such object and serves all its
// streams with it, its id set for the length of each callback: no allocation, no table entry.
//
// A callback names only the stream's id, and Envoy runs several root contexts in one VM (plugins sharing a
// VM configuration; after a configuration change the old root next to the new one while the old listener
// drains: cpp-host wasm.cc keys root_contexts_ by the plugin key, a hash of root id and configuration), so
// each stream still records which shared object is its own: in a slot picked by the low bits of its id,
// filled at creation and emptied in on_delete. The host never gives two live contexts one id (cpp-host
// allocContextId skips live ones); a stream whose slot a live stream holds gets its own object, as
// streams always did, so long-lived streams only cost their neighbours the old path.
import { Context } from "../context/context";
import { HttpContext } from "../context/http";
import { newBuckets } from "./registry";

// @ts-ignore: decorator
@inline const SLOTS = 256;
/** The id of the stream in each slot, 0 when free (0 is the VM's id, never a stream's). */
const slotIds = memory.data(SLOTS << 2);
/** Each slot's shared context: traced, so a root deleted before its streams stays alive with them. */
const slotContexts = newBuckets(SLOTS);

/**
 * What the transform's wrapper saw last: createHttpContext's result is shareable when it is this object. An
 * address, only compared: the collector need not trace it.
 */
let offered: usize = 0;

/** The transform wraps a proven `new X(contextId, this)` in createHttpContext with this call. */
// @ts-ignore: decorator
@global export function shareableHttpContext<T extends HttpContext>(context: T): T {
  offered = changetype<usize>(context);
  return context;
}

// @ts-ignore: decorator
@inline function slotOf(contextId: u32): i32 {
  return <i32>(contextId & (SLOTS - 1));
}

/** Where the id of the stream in `slot` is kept. */
// @ts-ignore: decorator
@inline function idAt(slot: i32): usize {
  return slotIds + (<usize>slot << 2);
}

/** Called before a root's createHttpContext, so that no earlier call of the wrapper counts. */
// @ts-ignore: decorator
@inline export function expectCreated(): void {
  offered = 0;
}

/** Whether `created`, just returned by a root's createHttpContext, is one the transform proved shareable. */
export function isShareable(created: HttpContext): bool {
  return changetype<usize>(created) == offered;
}

/** Makes stream `contextId` use `shared`, its root's shared context, unless a live stream holds its slot. */
export function shareStream(shared: Context, contextId: u32): bool {
  const slot = slotOf(contextId);
  if (load<u32>(idAt(slot)) != 0) return false;
  store<u32>(idAt(slot), contextId);
  unchecked((slotContexts[slot] = shared));
  return true;
}

/** The shared context of stream `contextId`, or null if it has none. Inlined: every callback looks its context up. */
// @ts-ignore: decorator
@inline export function sharedContext(contextId: u32): Context | null {
  const slot = slotOf(contextId);
  return load<u32>(idAt(slot)) == contextId ? unchecked(slotContexts[slot]) : null;
}

/** on_delete: frees the stream's slot (its context stays referenced until the slot is reused); false if it had none. */
// @ts-ignore: decorator
@inline export function endSharedStream(contextId: u32): bool {
  const at = idAt(slotOf(contextId));
  if (load<u32>(at) != contextId) return false;
  store<u32>(at, 0);
  return true;
}

/**
 * Gives `context` the id of the stream being called back; returns the id it had, for leaveStream. A shared
 * context serves its streams one callback at a time, but a callback may nest another stream's (a host call
 * that resumes another stream): the outer one gets its id back. Inlined: every HTTP callback runs it.
 */
// @ts-ignore: decorator
@inline export function enterStream(context: Context, contextId: u32): u32 {
  const outer = context.id;
  store<u32>(changetype<usize>(context), contextId, offsetof<Context>("id"));
  return outer;
}

// @ts-ignore: decorator
@inline export function leaveStream(context: Context, outer: u32): void {
  store<u32>(changetype<usize>(context), outer, offsetof<Context>("id"));
}

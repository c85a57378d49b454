// HTTP streams that share their root's one context object instead of each allocating its own.
// The transform (transform/shared-contexts.ts) proves at build time that a root's createHttpContext returns
// `new X(contextId, this)` with an X that holds nothing but its id and root and never lets `this` escape,
// and wraps that `new` in shareableHttpContext(). The root keeps the first such object and serves its
// streams with it, its id set for the length of each callback: no allocation.
//
// A callback names only the stream's id, and Envoy runs several root contexts in one VM (plugins sharing a
// VM configuration; after a configuration change the old root next to the new one while the old listener
// drains: cpp-host wasm.cc keys root_contexts_ by the plugin key, a hash of root id and configuration). So one
// sharing root is the default: its streams keep no record at all, and a stream without a record in the
// context table (registry.ts) is the default's. Every other stream has a record: its own object, or a
// `PassedStream` when its root took none. While the VM has one root, no stream has a record.
//
// The default changes only once its root is gone: Envoy's stream context holds its plugin's handle, whose
// end shuts the root down (Envoy context.h plugin_handle_, cpp-host PluginHandleBase::~PluginHandleBase), so a
// root outlives its streams, and once proxy_set_effective_context answers BadArgument for the root's id (it is
// no longer in cpp-host's contexts_, exports.cc) none of its streams is left. A filter whose streams all share
// (the transform's proof covers every createHttpContext, and it has no TCP contexts) does not export
// proxy_on_delete: records of streams that ended are found the same way, by asking the host, in sweeps that
// run every so many new contexts while records exist, long before the host's ids (a u32 counter that skips
// live ids, cpp-host wasm.cc allocContextId) could come round to one of them again.
import { Context } from "../context/context";
import { HttpContext } from "../context/http";
import { setEffectiveContext } from "../hostcalls/context";
import { addContext, isLive, sweepContexts } from "./registry";

/** The context of every stream without a record, the default root's shared one; null until a sharing root has a stream. */
let defaultShared: Context | null = null;
/** The id of defaultShared's root, 0 without one (0 is the VM's id, never a root's). */
let defaultRootId: u32 = 0;
/** defaultShared while no stream has a record: then every HTTP callback takes it without a lookup. */
let soleShared: Context | null = null;
/** A stream that its root did not take has no record while there is no default: none can become the default after it. */
let passedWithoutRecord = false;

// @ts-ignore: decorator
@inline const SWEEP_EVERY_MIN: u32 = 64;
/** New streams until the next sweep, while records exist. */
let untilSweep: u32 = SWEEP_EVERY_MIN;

/**
 * Whether the host tells the module of every context's end (proxy_on_delete). The transform makes this
 * false when it drops the export from a filter whose streams all share their root's context.
 */
function streamsGetDeleted(): bool {
  return true;
}

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

/** Called before a root's createHttpContext, so that no earlier call of the wrapper counts. */
// @ts-ignore: decorator
@inline export function expectCreated(): void {
  offered = 0;
}

/** Whether `created`, just returned by a root's createHttpContext, is one the transform proved shareable. */
export function isShareable(created: HttpContext): bool {
  return changetype<usize>(created) == offered;
}

/** Whether `rootId` is the default root: a new stream of it needs nothing. Inlined: every new stream asks. */
// @ts-ignore: decorator
@inline export function isDefaultRoot(rootId: u32): bool {
  return rootId == defaultRootId;
}

/** Makes `shared`, of root `rootId`, the default if there is none and may be: true when the new stream needs no record. */
export function becomeDefault(shared: Context, rootId: u32, contextId: u32): bool {
  if (defaultShared || passedWithoutRecord) return false;
  defaultShared = shared;
  defaultRootId = rootId;
  sweep(contextId);
  return true;
}

/** Gives stream `context` a record in the context table: callbacks then look their context up. */
export function record(context: Context): void {
  addContext(context);
  soleShared = null;
}

/** A stream its root did not take: true when it needs a record (a default would claim it otherwise). */
export function passedNeedsRecord(): bool {
  if (defaultShared) return true;
  passedWithoutRecord = true;
  return false;
}

/** The context of a stream without a record: the default's, or null. */
// @ts-ignore: decorator
@inline export function unrecordedContext(): Context | null {
  return defaultShared;
}

/** The shared context every HTTP callback gets while no stream has a record, else null. Inlined: every callback asks. */
// @ts-ignore: decorator
@inline export function soleContext(): Context | null {
  return soleShared;
}

/** Every new stream: while streams have records, every so many creations run a sweep. Inlined: every new stream runs it. */
// @ts-ignore: decorator
@inline export function streamCreated(contextId: u32): void {
  if (!soleShared && --untilSweep == 0) sweep(contextId);
}

/**
 * Asks the host which contexts are gone: the default root (then its streams are gone too, and the next
 * sharing root may become the default) and, without proxy_on_delete, every context with a record; counts
 * the records left. Runs inside callback `currentId`, which gets its effective context back.
 */
export function sweep(currentId: u32): void {
  const deleted = streamsGetDeleted();
  const rootId = defaultRootId;
  // Nothing to find (records go in on_delete) until a root becomes the default, which sweeps.
  if (rootId == 0 && deleted) return;
  if (rootId != 0 && !isLive(rootId)) {
    defaultShared = null;
    defaultRootId = 0;
  }
  const records = sweepContexts(!deleted);
  // At least twice the records' number of streams apart: a probe or so per new stream at most.
  untilSweep = (records << 1) | SWEEP_EVERY_MIN;
  soleShared = records ? null : defaultShared;
  setEffectiveContext(currentId);
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

// The plugin's root context factories, and the contexts by the host's context id: the roots and the streams
// with a record (a stream of the default root's shared context has none, see shared-streams.ts).
// Contexts live in a hash table chained through the contexts themselves rather than a Map: every generic
// instantiation of Map costs code in every plugin, and the host's ids, handed out in sequence, spread
// evenly by their low bits.
import { Context } from "../context/context";
import { HttpContext } from "../context/http";
import { RootContext } from "../context/root";
import { StreamContext } from "../context/stream";
import { getProperty } from "../hostcalls/properties";
import { log } from "../log";
import { sameString } from "../runtime/strings";
import { decodeUtf8, encodeUtf8 } from "../utf8";
import { setEffectiveContext } from "../hostcalls/context";
import { WasmResult } from "../types";
import { soleContext, unrecordedContext } from "./shared-streams";

export type RootContextFactory = (contextId: u32) => RootContext;

class NamedRoot {
  constructor(readonly rootId: string, readonly factory: RootContextFactory, readonly next: NamedRoot | null) {}
}

const INITIAL_BUCKETS = 16;
/** Bucket `id & (length - 1)` chains the contexts with that hash through their `nextInTable` link. */
let buckets = newBuckets(INITIAL_BUCKETS);
let count = 0;
// The newest context enters the buckets only once the next one is created: a stream that ends
// before the next one starts never touches them.
let newest: Context | null = null;

let defaultFactory: RootContextFactory | null = null;
let namedRoots: NamedRoot | null = null;
/**
 * Finds the factory for a new root context. Only `registerNamedRootContext` swaps in the lookup by root id,
 * so a module with one root context carries none of its code (a property read, UTF-8, messages).
 */
let pickRootFactory: () => RootContextFactory | null = (): RootContextFactory | null => defaultFactory;

/**
 * The build checks that the filter calls registerRootContext, but a call it never reaches (in a function nobody
 * calls) gets here: say what is missing. The transform empties this when a registration is top-level code, which
 * always runs, so most filters carry none of it.
 */
function reportNoRootContext(): void {
  log.critical("proxy-wasm-as: no root context: call registerRootContext() from the entry file's top level");
}

/**
 * Registers the factory of the plugin's root context, used whatever root id Envoy's config names
 * (`root_id`, Istio's `pluginName`) unless a named one claims it. Call it from top-level code of the entry file.
 */
export function registerRootContext(factory: RootContextFactory): void {
  defaultFactory = factory;
}

/**
 * Registers the factory of the root context for `rootId`, for a module that holds several: Envoy's
 * `root_id` (Istio's `pluginName`) picks one. A root id no registration names gets the
 * `registerRootContext` one, or the only named one. Call it from top-level code of the entry file.
 */
export function registerNamedRootContext(rootId: string, factory: RootContextFactory): void {
  namedRoots = new NamedRoot(rootId, factory, namedRoots);
  pickRootFactory = namedRootFactory;
}

/** The factory for a new root context, or null (after logging why) if the module has none for its root id. */
export function rootFactory(): RootContextFactory | null {
  const factory = pickRootFactory();
  // The named lookup says why itself.
  if (!factory && !namedRoots) reportNoRootContext();
  return factory;
}

function namedRootFactory(): RootContextFactory | null {
  const rootIdBytes = getProperty(encodeUtf8("plugin_root_id"));
  const rootId = rootIdBytes ? decodeUtf8(rootIdBytes) : "";
  let named = namedRoots;
  while (named) {
    if (sameString(named.rootId, rootId)) return named.factory;
    named = named.next;
  }
  if (defaultFactory) return defaultFactory;
  const only = namedRoots;
  if (only && !only.next) return only.factory;
  // on_configure then fails, and Envoy refuses the plugin.
  log.critical("proxy-wasm-as: no RootContext registered for root id '" + rootId + "'");
  return null;
}

// @ts-ignore: decorator
@inline function nextOf(context: Context): Context | null {
  // @ts-ignore: the table's own link, kept private from filter code
  return context.nextInTable;
}

// @ts-ignore: decorator
@inline function setNext(context: Context, next: Context | null): void {
  // @ts-ignore: the table's own link, kept private from filter code
  context.nextInTable = next;
}

// @ts-ignore: decorator
@inline function bucketOf(contextId: u32): i32 {
  return <i32>contextId & (buckets.length - 1);
}

/** Any live context in the table, or null once it has been deleted (or was never taken by its root). */
export function anyContext(contextId: u32): Context | null {
  const fresh = newest;
  if (fresh && fresh.id == contextId) return fresh;
  let context = unchecked(buckets[bucketOf(contextId)]);
  while (context && context.id != contextId) context = nextOf(context);
  return context;
}

export function addContext(context: Context): void {
  if (context.id == 0) return; // 0 is the VM's id, never a context's; the host never reuses a live id
  const previous = newest;
  if (previous) insert(previous);
  newest = context;
}

/** A stream its root did not take, recorded so that it is not taken for the default root's (shared-streams.ts). */
export class PassedStream extends Context {}

function insert(context: Context): void {
  if (count >= buckets.length) grow();
  const bucket = bucketOf(context.id);
  setNext(context, unchecked(buckets[bucket]));
  unchecked((buckets[bucket] = context));
  count++;
}

/** Empty buckets, without the length check (and its message strings) of `new StaticArray(n)`. */
export function newBuckets(count: i32): StaticArray<Context | null> {
  const size = <usize>count << alignof<usize>();
  const buckets = __new(size, idof<StaticArray<Context | null>>());
  memory.fill(buckets, 0, size);
  return changetype<StaticArray<Context | null>>(buckets);
}

/** Doubles the buckets once there are as many contexts: chains stay about one long. */
function grow(): void {
  rehash(buckets.length * 2, false);
}

/**
 * Whether the host still has context `contextId`: proxy_set_effective_context answers BadArgument for an id it
 * no longer has (cpp-host exports.cc). It also makes that context the effective one: the caller sets it back.
 * Inlined: add-header is within a few bytes of its size limit.
 */
// @ts-ignore: decorator
@inline export function isLive(contextId: u32): bool {
  return setEffectiveContext(contextId) == WasmResult.Ok;
}

/**
 * Moves the contexts into `length` new buckets; with `probe`, leaves out those the host says are gone
 * (isLive). Returns how many of those kept are streams.
 */
function rehash(length: i32, probe: bool): u32 {
  const old = buckets;
  buckets = newBuckets(length);
  count = 0;
  let streams: u32 = 0;
  for (let i = 0; i < old.length; i++) {
    let context = unchecked(old[i]);
    while (context) {
      const next = nextOf(context);
      setNext(context, null);
      if (!probe || isLive(context.id)) {
        const bucket = bucketOf(context.id);
        setNext(context, unchecked(buckets[bucket]));
        unchecked((buckets[bucket] = context));
        count++;
        if (!(context instanceof RootContext)) streams++;
      }
      context = next;
    }
  }
  return streams;
}

/** The streams with a record (shared-streams.ts), after leaving out, with `probe`, every context the host says is gone. */
export function sweepContexts(probe: bool): u32 {
  const fresh = newest;
  newest = null;
  if (fresh) insert(fresh);
  return rehash(buckets.length, probe);
}

export function removeContext(contextId: u32): void {
  const fresh = newest;
  if (fresh && fresh.id == contextId) {
    newest = null;
    return;
  }
  const bucket = bucketOf(contextId);
  let previous: Context | null = null;
  let context = unchecked(buckets[bucket]);
  while (context && context.id != contextId) {
    previous = context;
    context = nextOf(context);
  }
  if (!context) return;
  if (previous) setNext(previous, nextOf(context));
  else unchecked((buckets[bucket] = nextOf(context)));
  setNext(context, null);
  count--;
}

export function rootContext(contextId: u32): RootContext | null {
  const context = anyContext(contextId);
  return context instanceof RootContext ? changetype<RootContext>(context) : null;
}

/**
 * A stream without a record has the default root's shared context (shared-streams.ts); while no stream has
 * a record, every stream does, without a lookup.
 */
export function httpContext(contextId: u32): HttpContext | null {
  const sole = soleContext();
  if (sole) return changetype<HttpContext>(sole);
  const context = anyContext(contextId);
  if (!context) return changetype<HttpContext | null>(unrecordedContext());
  return context instanceof HttpContext ? changetype<HttpContext>(context) : null;
}

export function streamContext(contextId: u32): StreamContext | null {
  const context = anyContext(contextId);
  return context instanceof StreamContext ? changetype<StreamContext>(context) : null;
}

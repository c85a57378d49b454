// The plugin's root context factories and the live contexts, by the host's context id.
// Contexts live in a hash table chained through the contexts themselves rather than a Map: every generic
// instantiation of Map costs code in every plugin, and the host's ids, handed out in sequence, spread
// evenly by their low bits.
import { Context } from "../context/context";
import { HttpContext } from "../context/http";
import { RootContext } from "../context/root";
import { StreamContext } from "../context/stream";

export type RootContextFactory = (contextId: u32) => RootContext;

class RootRegistration {
  constructor(readonly rootId: string, readonly factory: RootContextFactory, readonly next: RootRegistration | null) {}
}

let registrations: RootRegistration | null = null;

const INITIAL_BUCKETS = 16;
/** Bucket `id & (length - 1)` chains the contexts with that hash through their `nextInTable` link. */
let buckets = newBuckets(INITIAL_BUCKETS);
let count = 0;
// A stream's callbacks come one after another, and each new stream names its root: remembering the
// last lookup and the last root skips most chain walks.
let lastContext: Context | null = null;
let lastRoot: RootContext | null = null;
// The newest context enters the buckets only once the next one is created: a stream that ends
// before the next one starts never touches them.
let newest: Context | null = null;

/**
 * Registers the factory of a plugin's root context, by the root id Envoy's config names
 * (`root_id`, Istio's `pluginName`). A module with one root context needs no root id.
 * Call it from top-level code of the entry file.
 */
export function registerRootContext(factory: RootContextFactory, rootId: string = ""): void {
  registrations = new RootRegistration(rootId, factory, registrations);
}

/** The factory for `rootId`: its own registration, or the only one there is. */
export function findRootFactory(rootId: string): RootContextFactory | null {
  let registration = registrations;
  while (registration) {
    if (registration.rootId == rootId) return registration.factory;
    registration = registration.next;
  }
  const only = registrations;
  return only && !only.next ? only.factory : null;
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

function find(contextId: u32): Context | null {
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
  lastContext = context; // its first callback comes next
}

function insert(context: Context): void {
  if (count >= buckets.length) grow();
  const bucket = bucketOf(context.id);
  setNext(context, unchecked(buckets[bucket]));
  unchecked((buckets[bucket] = context));
  count++;
}

/** Empty buckets, without the length check (and its message strings) of `new StaticArray(n)`. */
function newBuckets(count: i32): StaticArray<Context | null> {
  const size = <usize>count << alignof<usize>();
  const buckets = __new(size, idof<StaticArray<Context | null>>());
  memory.fill(buckets, 0, size);
  return changetype<StaticArray<Context | null>>(buckets);
}

/** Doubles the buckets once there are as many contexts: chains stay about one long. */
function grow(): void {
  const old = buckets;
  buckets = newBuckets(old.length * 2);
  for (let i = 0; i < old.length; i++) {
    let context = unchecked(old[i]);
    while (context) {
      const next = nextOf(context);
      const bucket = bucketOf(context.id);
      setNext(context, unchecked(buckets[bucket]));
      unchecked((buckets[bucket] = context));
      context = next;
    }
  }
}

export function removeContext(contextId: u32): void {
  const last = lastContext;
  if (last && last.id == contextId) lastContext = null;
  const root = lastRoot;
  if (root && root.id == contextId) lastRoot = null;
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

/** Any live context, or null once it has been deleted (or was never taken by its root). Inlined: every callback looks its context up. */
// @ts-ignore: decorator
@inline export function anyContext(contextId: u32): Context | null {
  const last = lastContext;
  if (last && last.id == contextId) return last;
  const context = find(contextId);
  if (context) lastContext = context;
  return context;
}

export function rootContext(contextId: u32): RootContext | null {
  const cached = lastRoot;
  if (cached && cached.id == contextId) return cached;
  const context = anyContext(contextId);
  if (!(context instanceof RootContext)) return null;
  const root = changetype<RootContext>(context);
  lastRoot = root;
  return root;
}

export function httpContext(contextId: u32): HttpContext | null {
  const context = anyContext(contextId);
  return context instanceof HttpContext ? changetype<HttpContext>(context) : null;
}

export function streamContext(contextId: u32): StreamContext | null {
  const context = anyContext(contextId);
  return context instanceof StreamContext ? changetype<StreamContext>(context) : null;
}

// The plugin's root context factories and the live contexts, by the host's context id.
// Contexts live in one open-addressing table rather than a Map: every generic instantiation of Map
// costs code in every plugin, and the host's ids, handed out in sequence, spread evenly by their low bits.
import { Context } from "../context/context";
import { HttpContext } from "../context/http";
import { RootContext } from "../context/root";
import { StreamContext } from "../context/stream";

export type RootContextFactory = (contextId: u32) => RootContext;

class RootRegistration {
  constructor(readonly rootId: string, readonly factory: RootContextFactory, readonly next: RootRegistration | null) {}
}

let registrations: RootRegistration | null = null;

const INITIAL_CAPACITY = 16;
/** Slot i holds the context with id ids[i]; id 0 (never a context's) marks a free slot. */
let ids = new StaticArray<u32>(INITIAL_CAPACITY);
let contexts = new StaticArray<Context | null>(INITIAL_CAPACITY);
let count = 0;
// A stream's callbacks come one after another, and each new stream names its root: remembering the
// last lookup and the last root skips most probing.
let lastContext: Context | null = null;
let lastRoot: RootContext | null = null;

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

/** The slot holding `contextId`, or the free slot where it would go. */
// @ts-ignore: decorator
@inline function slotOf(contextId: u32): i32 {
  const mask = ids.length - 1;
  let slot = <i32>contextId & mask;
  while (true) {
    const id = unchecked(ids[slot]);
    if (id == contextId || id == 0) return slot;
    slot = (slot + 1) & mask;
  }
}

export function addContext(context: Context): void {
  if (context.id == 0) return; // 0 is the VM's id, never a context's; it marks free slots
  if ((count + 1) * 2 > ids.length) grow();
  const slot = slotOf(context.id);
  if (unchecked(ids[slot]) == 0) count++;
  unchecked((ids[slot] = context.id));
  unchecked((contexts[slot] = context));
  lastContext = context; // its first callback comes next
}

function grow(): void {
  const oldIds = ids;
  const oldContexts = contexts;
  ids = new StaticArray<u32>(oldIds.length * 2);
  contexts = new StaticArray<Context | null>(oldIds.length * 2);
  for (let i = 0; i < oldIds.length; i++) {
    if (unchecked(oldIds[i]) == 0) continue;
    const slot = slotOf(unchecked(oldIds[i]));
    unchecked((ids[slot] = oldIds[i]));
    unchecked((contexts[slot] = oldContexts[i]));
  }
}

export function removeContext(contextId: u32): void {
  const last = lastContext;
  if (last && last.id == contextId) lastContext = null;
  const root = lastRoot;
  if (root && root.id == contextId) lastRoot = null;
  let slot = slotOf(contextId);
  if (unchecked(ids[slot]) == 0) return;
  count--;
  // Backward-shift deletion: pull later entries of the probe run into the gap, so no tombstones.
  const mask = ids.length - 1;
  let next = slot;
  while (true) {
    next = (next + 1) & mask;
    const id = unchecked(ids[next]);
    if (id == 0) break;
    const home = <i32>id & mask;
    const movable = slot <= next ? home <= slot || home > next : home <= slot && home > next;
    if (!movable) continue;
    unchecked((ids[slot] = id));
    unchecked((contexts[slot] = contexts[next]));
    slot = next;
  }
  unchecked((ids[slot] = 0));
  unchecked((contexts[slot] = null));
}

/** Any live context, or null once it has been deleted (or was never taken by its root). */
export function anyContext(contextId: u32): Context | null {
  const last = lastContext;
  if (last && last.id == contextId) return last;
  const context = unchecked(contexts[slotOf(contextId)]);
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

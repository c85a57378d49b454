// The plugin's root context factories and the live contexts, by the host's context id.
// One map holds every kind of context: each generic instantiation of Map costs code in every plugin.
import { Context } from "../context/context";
import { HttpContext } from "../context/http";
import { RootContext } from "../context/root";
import { StreamContext } from "../context/stream";

export type RootContextFactory = (contextId: u32) => RootContext;

class RootRegistration {
  constructor(readonly rootId: string, readonly factory: RootContextFactory) {}
}

const registrations = new Array<RootRegistration>();
const contexts = new Map<u32, Context>();
// A stream's callbacks come one after another: remembering the last lookup skips most hashing.
let lastContext: Context | null = null;

/**
 * Registers the factory of a plugin's root context, by the root id Envoy's config names
 * (`root_id`, Istio's `pluginName`). A module with one root context needs no root id.
 * Call it from top-level code of the entry file.
 */
export function registerRootContext(factory: RootContextFactory, rootId: string = ""): void {
  registrations.push(new RootRegistration(rootId, factory));
}

/** The factory for `rootId`: its own registration, or the only one there is. */
export function findRootFactory(rootId: string): RootContextFactory | null {
  for (let i = 0; i < registrations.length; i++) {
    if (registrations[i].rootId == rootId) return registrations[i].factory;
  }
  return registrations.length == 1 ? registrations[0].factory : null;
}

export function addContext(context: Context): void {
  contexts.set(context.id, context);
}

export function removeContext(contextId: u32): void {
  contexts.delete(contextId);
  const last = lastContext;
  if (last && last.id == contextId) lastContext = null;
}

/** Any live context, or null once it has been deleted (or was never taken by its root). */
export function anyContext(contextId: u32): Context | null {
  const last = lastContext;
  if (last && last.id == contextId) return last;
  if (!contexts.has(contextId)) return null;
  const context = contexts.get(contextId);
  lastContext = context;
  return context;
}

export function rootContext(contextId: u32): RootContext | null {
  const context = anyContext(contextId);
  return context instanceof RootContext ? changetype<RootContext>(context) : null;
}

export function httpContext(contextId: u32): HttpContext | null {
  const context = anyContext(contextId);
  return context instanceof HttpContext ? changetype<HttpContext>(context) : null;
}

export function streamContext(contextId: u32): StreamContext | null {
  const context = anyContext(contextId);
  return context instanceof StreamContext ? changetype<StreamContext>(context) : null;
}

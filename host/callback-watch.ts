// A hook for an embedder that watches callbacks from another thread (the dev proxy's main thread
// watching its worker threads: devproxy/workers/watchdog.ts). The VM tells it when each outermost
// callback starts and ends; what the watcher does with that (a few Atomics stores) is its own.
// Without one set, a callback costs a null check.

export interface CallbackWatch {
  /** An outermost callback `name` of the plugin `plugin` (its name in PluginOptions) starts. */
  enter(plugin: string, name: string): void;
  /** It returned, trapped or was stopped. */
  leave(): void;
}

export let callbackWatch: CallbackWatch | null = null;

/** Sets (or, with null, clears) the watch of every VM in this thread. */
export function setCallbackWatch(watch: CallbackWatch | null): void {
  callbackWatch = watch;
}

// The callback deadline in worker-thread mode, kept by the main thread instead of a node:vm
// watchdog thread per callback (the dev proxy's biggest cost). Each worker publishes in a
// SharedArrayBuffer when its outermost callback started and which one it is (two Atomics stores
// on entry, one on return); the main thread reads it on a timer and, past the deadline, stops the
// worker, the only way to stop a JS thread from outside. Names (plugin, callback) go over the
// channel once each, as small ids.

import type { CallbackWatch } from "../../host/callback-watch.js";

/** What a worker publishes: [0] ms since `epoch` + 1 when the callback started (0: not in wasm), [1] plugin id << 16 | callback id. */
export interface WatchLink {
  buffer: SharedArrayBuffer;
  /** Date.now() on the main thread when the link was made: both threads count from it. */
  epoch: number;
}

export function watchLink(): WatchLink {
  return { buffer: new SharedArrayBuffer(8), epoch: Date.now() };
}

/** The worker's side: publishes each outermost callback; `named` posts a new name's id once. */
export function publishingWatch(link: WatchLink, named: (id: number, text: string) => void): CallbackWatch {
  const cell = new Int32Array(link.buffer);
  const ids = new Map<string, number>();
  const id = (text: string) => {
    let n = ids.get(text);
    if (n === undefined) {
      ids.set(text, (n = ids.size & 0xffff));
      named(n, text);
    }
    return n;
  };
  return {
    enter(plugin, name) {
      Atomics.store(cell, 1, (id(plugin) << 16) | id(name));
      Atomics.store(cell, 0, Date.now() - link.epoch + 1);
    },
    leave() {
      Atomics.store(cell, 0, 0);
    },
  };
}

export interface Overdue {
  plugin: string;
  callback: string;
  elapsedMs: number;
}

/** The main thread's side for one worker. */
export class WatchedWorker {
  private readonly cell: Int32Array;
  private readonly names = new Map<number, string>();

  constructor(private readonly link: WatchLink) {
    this.cell = new Int32Array(link.buffer);
  }

  named(id: number, text: string): void {
    this.names.set(id, text);
  }

  /** The callback running past `deadlineMs`, or null. */
  overdue(deadlineMs: number): Overdue | null {
    const started = Atomics.load(this.cell, 0);
    if (started === 0) return null;
    const elapsedMs = Date.now() - this.link.epoch - (started - 1);
    if (elapsedMs <= deadlineMs) return null;
    const which = Atomics.load(this.cell, 1);
    return { plugin: this.names.get(which >>> 16) ?? "?", callback: this.names.get(which & 0xffff) ?? "?", elapsedMs };
  }
}

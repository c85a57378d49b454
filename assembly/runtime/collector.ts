// Garbage collection at safe points. The preset builds with the minimal runtime (two-colour mark and
// sweep, no shadow stack: 7 KB smaller and faster per call than the incremental one), which may only
// collect when no AssemblyScript frame holds references: at the end of an outermost callback.
// Collecting is a full mark and sweep, so it runs once per COLLECT_EVERY units of work: a callback is
// one unit, a context's end (when its garbage is certain) CONTEXT_END units. Garbage stays bounded
// by a few requests' worth, also for long-lived contexts (roots, TCP connections).

const COLLECT_EVERY: u32 = 64;
const CONTEXT_END: u32 = 8;
let depth: u32 = 0;
let workSinceCollection: u32 = 0;

/** Every export calls this first: the host may call back into the module from inside a host call. */
export function callbackStarted(): void {
  depth++;
}

/** Every export calls this last; `contextEnded` after a context was deleted. */
export function callbackFinished(contextEnded: bool): void {
  depth--;
  if (depth != 0) return;
  workSinceCollection += contextEnded ? CONTEXT_END : 1;
  if (workSinceCollection < COLLECT_EVERY) return;
  workSinceCollection = 0;
  __collect();
}

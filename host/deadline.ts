// Stops a callback that runs past its deadline. Wasm runs synchronously on the test's thread,
// so nothing else can run meanwhile; Node's vm module can still end it: a script run with a
// `timeout` is watched from another thread, which terminates the isolate's execution (wasm
// included) when the time is up, and turns that into an exception where the script was entered.
// The watchdog costs a thread per run (tens of microseconds), so it is armed once per outermost
// host operation: a whole request (runGuarded, from the request runner) shares one watchdog, and
// a callback outside any guard gets its own. The termination skips every `finally` between the
// callback and the guard, so the guard's caller restores what the host had half done, using
// `stoppedCallback()` to name the callback that was running.

import { createContext, Script } from "node:vm";

/** Thrown when a callback ran past its deadline; the VM that ran it is failed. */
export class DeadlineExceeded extends Error {
  constructor(readonly elapsedMs: number) {
    super(`callback ran past its deadline (${elapsedMs} ms)`);
  }
}

/** The deadline under a test runner and in simulate: far above any real callback. */
export const DEFAULT_CALLBACK_DEADLINE_MS = 10_000;

/**
 * The deadline a plugin gets when its options name none: PROXY_WASM_AS_CALLBACK_DEADLINE_MS
 * from the environment (0 = none) if set; else DEFAULT_CALLBACK_DEADLINE_MS under node's test
 * runner (NODE_TEST_CONTEXT), where a hang costs most; else none, keeping the watchdog off the
 * hot path of the dev proxy, benchmarks and scripts.
 */
export function defaultCallbackDeadlineMs(): number {
  const given = process.env.PROXY_WASM_AS_CALLBACK_DEADLINE_MS;
  if (given !== undefined && given !== "") return Number(given);
  return process.env.NODE_TEST_CONTEXT ? DEFAULT_CALLBACK_DEADLINE_MS : 0;
}

type Callback = (...args: unknown[]) => unknown;

const sandbox = createContext({ run: null as null | (() => unknown) });
const runScript = new Script("run()");

/** Calls `fn(...args)`; throws DeadlineExceeded if it runs longer than `deadlineMs`. */
export function callWithDeadline(deadlineMs: number, fn: Callback, ...args: unknown[]): unknown {
  const started = performance.now();
  sandbox.run = () => fn(...args);
  try {
    return runScript.runInContext(sandbox, { timeout: deadlineMs });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
      throw new DeadlineExceeded(Math.round(performance.now() - started));
    }
    throw error;
  } finally {
    sandbox.run = null;
  }
}

/** The outermost callback running under a guard: which VM, which export, since when. */
export interface RunningCallback {
  /** The VM whose callback it is (opaque here: vm.ts owns it). */
  owner: unknown;
  name: string;
  startedAt: number;
}

let guardMs = 0;
const running: RunningCallback = { owner: null, name: "", startedAt: 0 };

/** The deadline of the guard in force (0 outside one): callbacks under it need no watchdog of their own. */
export function guardDeadlineMs(): number {
  return guardMs;
}

/** Notes the outermost callback a guard watches (a few field writes, no allocation). */
export function enterGuardedCallback(owner: unknown, name: string): void {
  running.owner = owner;
  running.name = name;
  running.startedAt = performance.now();
}

/**
 * What a guard's stop interrupted: the last outermost callback that started under it (the one
 * running, unless the stop fell between two callbacks) and how long ago it started.
 */
export interface StoppedCallback {
  /** null when no callback had started (the host's own work ran past the deadline). */
  owner: unknown;
  name: string;
  elapsedMs: number;
  deadlineMs: number;
}

/**
 * Runs `fn` under one watchdog of `deadlineMs` (none for 0, or inside another guard). Returns
 * null when it finished, or what was running when it was stopped: the caller restores the host
 * state `fn` left half done and fails the VM.
 */
export function runGuarded(deadlineMs: number, fn: () => void): StoppedCallback | null {
  if (deadlineMs === 0 || guardMs !== 0) {
    fn();
    return null;
  }
  guardMs = deadlineMs;
  running.owner = null;
  try {
    callWithDeadline(deadlineMs, fn);
    return null;
  } catch (error) {
    if (!(error instanceof DeadlineExceeded)) throw error;
    const elapsedMs = running.owner === null ? error.elapsedMs : Math.round(performance.now() - running.startedAt);
    return { owner: running.owner, name: running.name, elapsedMs, deadlineMs };
  } finally {
    guardMs = 0;
    running.owner = null;
  }
}
